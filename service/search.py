"""Answer a search request from an index, in the API's response shape: shared by the HTTP API and the CLI."""

from __future__ import annotations

from index import Index
from index.answering import answer_question
from service.schemas import SearchFilters, SearchRequest, SearchResponse, SearchResult


def answer(index: Index, request: SearchRequest) -> SearchResponse:
    """The response to ``request``: its ranked clauses, each with its best sentence."""
    filters = request.filters or SearchFilters()
    answered = answer_question(
        index, request.query, request.top_k, request.mode, doc_id=filters.doc_id, section=filters.section
    )
    return SearchResponse(
        query=request.query,
        mode=request.mode,
        answerable=answered.answerable,
        results=[SearchResult.from_hit(clause.hit, clause.highlight) for clause in answered.clauses],
        took_ms=answered.took_ms,
    )
