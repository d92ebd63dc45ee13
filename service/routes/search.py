"""Search routes: POST a question as JSON, or GET it as query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from retrieval import Retriever
from service.deps import API_KEY_SCHEME, MetricsDep, QuestionLogDep, RetrieverDep
from service.errors import API_ERRORS
from service.metrics import Metrics
from service.middleware import request_id_var
from service.question_log import QuestionLog
from service.schemas import ErrorResponse, SearchParams, SearchRequest, SearchResponse
from service.search import answer

router = APIRouter(
    prefix="/v1",
    tags=["search"],
    responses={**API_ERRORS, 422: {"model": ErrorResponse}},
    dependencies=[API_KEY_SCHEME],
)


@router.post("/search", response_model=SearchResponse, summary="Rank the clauses that answer a question")
def search(
    body: SearchRequest, retriever: RetrieverDep, request: Request, metrics: MetricsDep, question_log: QuestionLogDep
) -> Response:
    request.state.mode = body.mode  # a metrics label
    return _answer(retriever, body, metrics, question_log)


@router.get("/search", response_model=SearchResponse, summary="The same search, as query parameters")
def search_get(
    params: Annotated[SearchParams, Query()],
    retriever: RetrieverDep,
    request: Request,
    metrics: MetricsDep,
    question_log: QuestionLogDep,
) -> Response:
    request.state.mode = params.mode
    return _answer(retriever, params.to_request(), metrics, question_log)


def _answer(retriever: Retriever, body: SearchRequest, metrics: Metrics, question_log: QuestionLog | None) -> Response:
    """The answer, under the request's id; counted if the notices may not answer it, and logged."""
    response, retrieval = answer(retriever, body, request_id_var.get())
    metrics.searched(response.answerable)
    if question_log is not None:
        question_log.search(body, response)
    # Serialised here, in the endpoint's worker thread: the model was validated as it was built, and FastAPI would
    # validate it again in a second worker thread (response_model is kept for the OpenAPI document).
    # How long the question's embedding and the whole search took (ms), for the browser's devtools and for
    # bench/load.py, which tells the service's own overhead from the embedding's within one request.
    timing = f"embed;dur={retrieval.embed_ms}, search;dur={retrieval.took_ms}"
    return Response(response.model_dump_json(), media_type="application/json", headers={"Server-Timing": timing})
