"""Feedback route: whether an answer helped, named by its search's request id."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import API_KEY_SCHEME, MetricsDep, QuestionLogDep
from service.errors import API_ERRORS
from service.schemas import ErrorResponse, FeedbackRequest

router = APIRouter(
    prefix="/v1",
    tags=["feedback"],
    # Feedback needs no index, so it is taken while the index loads: no 503.
    responses={**{status: doc for status, doc in API_ERRORS.items() if status != 503}, 422: {"model": ErrorResponse}},
    dependencies=[API_KEY_SCHEME],
)


@router.post(
    "/feedback",
    status_code=204,
    response_class=Response,
    summary="Say whether an answer helped",
    responses={204: {"description": "Counted, and recorded in the question log when questions are logged"}},
)
def feedback(body: FeedbackRequest, metrics: MetricsDep, question_log: QuestionLogDep) -> None:
    metrics.feedback_received(body.helpful)
    if question_log is not None:
        question_log.feedback(body)
