"""Dependencies that routes declare to get at the service's state.

Each is ``async`` though it awaits nothing: FastAPI runs a plain function in a worker thread, and the hop there and
back cost a search more than the lookup itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from index import Index
from index.progress import embedding_status
from retrieval import Retriever
from service.errors import NotReady
from service.metrics import Metrics
from service.middleware import ADMIN_KEY_HEADER, API_KEY_HEADER
from service.question_log import QuestionLog
from service.state import ServiceState

# Document the keys in OpenAPI; the keys themselves are checked by KeyGuard, before the rate limit's count.
API_KEY_SCHEME = Security(
    APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Required when POLICYQA_API_KEY is set.")
)

ADMIN_KEY_SCHEME = Security(
    APIKeyHeader(name=ADMIN_KEY_HEADER, auto_error=False, description="The admin API's key, POLICYQA_ADMIN_KEY.")
)


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_index(state: StateDep) -> Index:
    """The loaded index; 503 while it is loading or if it failed to load."""
    if state.index is None:
        raise _not_ready(state)
    return state.index


async def get_retriever(state: StateDep) -> Retriever:
    """The Retriever over the loaded index; 503 as for the index."""
    if state.retriever is None:
        raise _not_ready(state)
    return state.retriever


def _not_ready(state: ServiceState) -> NotReady:
    if state.load_error:
        return NotReady(state.load_error, headers={"Retry-After": "2"})
    building = embedding_status()
    being_built = f" (being built: {building})" if building else ""
    return NotReady(f"the index is still loading{being_built}; retry shortly", headers={"Retry-After": "2"})


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_question_log(request: Request) -> QuestionLog | None:
    """The question log; None when questions are not logged (POLICYQA_LOG_QUESTIONS=false)."""
    return request.app.state.question_log


IndexDep = Annotated[Index, Depends(get_index)]
RetrieverDep = Annotated[Retriever, Depends(get_retriever)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
QuestionLogDep = Annotated[QuestionLog | None, Depends(get_question_log)]
