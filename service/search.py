"""Answer a search request with a Retriever, in the API's response shape: shared by the HTTP API and the CLI."""

from __future__ import annotations

from retrieval import Retrieval, Retriever
from service.schemas import SearchRequest, SearchResponse, SearchResult


def answer(retriever: Retriever, request: SearchRequest, request_id: str) -> tuple[SearchResponse, Retrieval]:
    """The response to ``request`` (whose id is ``request_id``): its ranked clauses, each with its best sentences; and
    the retrieval it was made from."""
    retrieval = retriever.search(request.to_retrieval())
    response = SearchResponse(
        query=request.query,
        mode=request.mode,
        answerable=retrieval.answerable,
        results=[SearchResult.from_hit(hit) for hit in retrieval.hits],
        took_ms=retrieval.took_ms,
        resolved_query=retrieval.searched if retrieval.searched != request.query else None,
        request_id=request_id,
    )
    return response, retrieval
