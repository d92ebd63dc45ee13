"""Build the FastAPI application."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.errors import install_error_handlers
from service.metrics import Metrics
from service.middleware import (
    API_KEY_HEADER,
    APIKeyGuard,
    BodyGuard,
    FramingGuard,
    HeadAsGet,
    JSONRefusalCORS,
    RateLimit,
    RequestContext,
)
from service.routes import documents, health, search, widget
from service.settings import Settings, get_settings
from service.state import ServiceState


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's app. The index loads in the background at start-up; /readyz answers 200 once it is in.
    A local index is then watched: a newer complete build is switched to without a restart."""
    settings = settings or get_settings()
    state = ServiceState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        threading.Thread(target=state.run, args=(stop,), name="index-loader", daemon=True).start()
        yield
        stop.set()
        state.close()

    app = FastAPI(
        title="policyqa",
        summary="Ask questions of Chinese policy notices; get the clauses that answer, with citations.",
        version=version("policyqa"),
        lifespan=lifespan,
    )
    app.state.service = state
    # Starlette's slash redirect is absolute, built from the Host header a client sends: no redirects.
    app.router.redirect_slashes = False
    app.state.metrics = Metrics()
    install_error_handlers(app)
    for module in (search, documents, health, widget):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=widget.STATIC_DIR), name="static")

    # Added innermost first: a request meets RequestContext, FramingGuard, HeadAsGet, CORS, the rate limit, the API
    # key, then BodyGuard (which judges the body as the route reads it).
    # The limit comes before the key so that guessing keys is limited too.
    app.add_middleware(
        BodyGuard, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout, deadline=settings.body_deadline
    )
    if settings.api_key:
        app.add_middleware(APIKeyGuard, api_key=settings.api_key)
    if settings.rate_limit:
        app.add_middleware(RateLimit, rate=settings.rate_limit)
    app.add_middleware(
        JSONRefusalCORS,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", API_KEY_HEADER, "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(FramingGuard)
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    return app
