"""Answer a search request from an index: the one path shared by the HTTP API and the CLI."""

from __future__ import annotations

import time

from index import SearchBackend
from service.schemas import SearchFilters, SearchRequest, SearchResponse, SearchResult


def answer(index: SearchBackend, request: SearchRequest) -> SearchResponse:
    """Rank the clauses that answer ``request.query`` and attach each one's best sentence."""
    started = time.perf_counter()
    filters = request.filters or SearchFilters()
    ranking = index.search(request.query, request.top_k, request.mode, doc_id=filters.doc_id, section=filters.section)
    results = [SearchResult.from_hit(hit, index.highlight(hit.passage, request.query)) for hit in ranking.hits]
    took_ms = round((time.perf_counter() - started) * 1000, 2)
    return SearchResponse(
        query=request.query, mode=request.mode, answerable=ranking.answerable, results=results, took_ms=took_ms
    )
