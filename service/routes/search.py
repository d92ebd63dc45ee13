"""Search routes: POST a question as JSON, or GET it as query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.deps import API_KEY_SCHEME, RetrieverDep
from service.errors import API_ERRORS
from service.schemas import ErrorResponse, SearchParams, SearchRequest, SearchResponse
from service.search import answer

router = APIRouter(
    prefix="/v1",
    tags=["search"],
    responses={**API_ERRORS, 422: {"model": ErrorResponse}},
    dependencies=[API_KEY_SCHEME],
)


@router.post("/search", response_model=SearchResponse, summary="Rank the clauses that answer a question")
def search(body: SearchRequest, retriever: RetrieverDep, request: Request) -> SearchResponse:
    request.state.mode = body.mode  # a metrics label
    return answer(retriever, body)


@router.get("/search", response_model=SearchResponse, summary="The same search, as query parameters")
def search_get(params: Annotated[SearchParams, Query()], retriever: RetrieverDep, request: Request) -> SearchResponse:
    request.state.mode = params.mode
    return answer(retriever, params.to_request())
