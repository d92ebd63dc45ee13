"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.deps import IndexDep, RetrieverDep, StateDep
from service.errors import ANY_ROUTE_ERRORS
from service.schemas import ErrorResponse, Readiness, Status, rejected_files

router = APIRouter(tags=["health"], responses=ANY_ROUTE_ERRORS)


@router.get("/healthz", response_model=Status, summary="The process is up")
def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz", response_model=Readiness, responses={503: {"model": ErrorResponse}}, summary="The index is loaded"
)
def readyz(index: IndexDep, retriever: RetrieverDep, state: StateDep) -> Readiness:
    index.check()  # a database that is down makes this 503, as it does every search
    reranker = retriever.reranker
    return Readiness(
        status="ready",
        embedder=index.embedder.id,
        reranker=None if reranker is None else reranker.id,
        rejected=rejected_files(state.rejected()),
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    collected = request.app.state.metrics
    return Response(collected.render(), media_type=collected.content_type)
