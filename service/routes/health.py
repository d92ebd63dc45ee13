"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.deps import IndexDep
from service.errors import ANY_ROUTE_ERRORS
from service.schemas import ErrorResponse, Status

router = APIRouter(tags=["health"], responses=ANY_ROUTE_ERRORS)


@router.get("/healthz", response_model=Status, summary="The process is up")
def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: {"model": ErrorResponse}}, summary="The index is loaded")
def readyz(index: IndexDep) -> Status:
    index.check()  # a database that is down makes this 503, as it does every search
    return Status(status="ready")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    collected = request.app.state.metrics
    return Response(collected.render(), media_type=collected.content_type)
