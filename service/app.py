"""Build the FastAPI application."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from corpus.reader import MAX_NOTICE_BYTES
from service.errors import install_error_handlers
from service.log import configure_logging
from service.metrics import Metrics
from service.middleware import (
    ADMIN_KEY_HEADER,
    ADMIN_PREFIX,
    API_KEY_HEADER,
    API_PREFIX,
    BodyGuard,
    FramingGuard,
    HeadAsGet,
    JSONRefusalCORS,
    KeyGuard,
    RateLimit,
    RequestContext,
)
from service.question_log import QuestionLog
from service.routes import admin, documents, feedback, health, search, widget
from service.settings import Settings, get_settings
from service.state import ServiceState

# An upload's form fields and boundaries besides the notice file itself.
UPLOAD_FORM_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's app. The index loads in the background at start-up; /readyz answers 200 once it is in.
    A local index is then watched: a newer complete build is switched to without a restart."""
    settings = settings or get_settings()
    state = ServiceState(settings)
    question_log = (
        QuestionLog(settings.question_log_dir, settings.question_log_max_bytes, settings.question_log_backups)
        if settings.log_questions
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        threading.Thread(target=state.run, args=(stop,), name="index-loader", daemon=True).start()
        yield
        stop.set()
        state.close()
        if question_log is not None:
            question_log.close()

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
    app.state.question_log = question_log
    install_error_handlers(app)
    for module in (search, feedback, documents, health, widget):
        app.include_router(module.router)
    if settings.admin_key:  # else the admin API is off: its paths are 404s
        app.include_router(admin.router)
    app.mount("/static", StaticFiles(directory=widget.STATIC_DIR), name="static")

    # Added innermost first: a request meets RequestContext, FramingGuard, HeadAsGet, CORS, the rate limit, the keys,
    # then BodyGuard (which judges the body as the route reads it).
    # The limit comes before the keys so that guessing keys is limited too.
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.max_body_bytes,
        timeout=settings.body_timeout,
        deadline=settings.body_deadline,
        max_upload_bytes=MAX_NOTICE_BYTES + UPLOAD_FORM_BYTES,
        upload_deadline=settings.upload_deadline,
    )
    if settings.admin_key:
        app.add_middleware(KeyGuard, key=settings.admin_key, header=ADMIN_KEY_HEADER, prefix=ADMIN_PREFIX)
    if settings.api_key:  # the admin API has its own key
        exempt = ADMIN_PREFIX if settings.admin_key else None
        app.add_middleware(KeyGuard, key=settings.api_key, header=API_KEY_HEADER, prefix=API_PREFIX, exempt=exempt)
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


def worker_app() -> FastAPI:
    """The app of one of several worker processes (POLICYQA_WORKERS), made from the environment's settings."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
