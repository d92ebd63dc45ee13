"""Build the FastAPI application."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.errors import install_error_handlers
from service.routes import documents, health, search
from service.settings import Settings, get_settings
from service.state import ServiceState


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's app. The index loads in the background at start-up; /readyz answers 200 once it is in."""
    state = ServiceState(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=state.load, name="index-loader", daemon=True).start()
        yield

    app = FastAPI(
        title="policyqa",
        summary="Ask questions of Chinese policy notices; get the clauses that answer, with citations.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)
    for module in (search, documents, health):
        app.include_router(module.router)
    return app
