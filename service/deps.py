"""Dependencies that routes declare to get at the service's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from index import Index
from retrieval import Retriever
from service.errors import NotReady
from service.middleware import API_KEY_HEADER
from service.state import ServiceState

# Documents the API key in OpenAPI; the key itself is checked by APIKeyGuard, before the rate limit's count.
API_KEY_SCHEME = Security(
    APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Required when POLICYQA_API_KEY is set.")
)


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


def get_index(state: StateDep) -> Index:
    """The loaded index; 503 while it is loading or if it failed to load."""
    if state.index is None:
        raise _not_ready(state)
    return state.index


def get_retriever(state: StateDep) -> Retriever:
    """The Retriever over the loaded index; 503 as for the index."""
    if state.retriever is None:
        raise _not_ready(state)
    return state.retriever


def _not_ready(state: ServiceState) -> NotReady:
    return NotReady(state.load_error or "the index is still loading; retry shortly", headers={"Retry-After": "2"})


IndexDep = Annotated[Index, Depends(get_index)]
RetrieverDep = Annotated[Retriever, Depends(get_retriever)]
