"""Search routes: POST a question as JSON, or GET it as query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import IndexDep
from service.schemas import ErrorResponse, SearchParams, SearchRequest, SearchResponse
from service.search import answer

router = APIRouter(
    prefix="/v1", tags=["search"], responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}
)


@router.post("/search", response_model=SearchResponse, summary="Rank the clauses that answer a question")
def search(request: SearchRequest, index: IndexDep) -> SearchResponse:
    return answer(index, request)


@router.get("/search", response_model=SearchResponse, summary="The same search, as query parameters")
def search_get(params: Annotated[SearchParams, Query()], index: IndexDep) -> SearchResponse:
    return answer(index, params.to_request())
