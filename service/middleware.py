"""ASGI middleware: request ids and metrics, an optional API key, per-client rate limits, request framing and
request-body checks.

Each is a plain ASGI class, so that a body can be refused before it has been read whole.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
import uuid
from contextvars import ContextVar

import limits
from fastapi.routing import APIRoute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import (
    APIError,
    InvalidUTF8,
    MalformedJSON,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    error_response,
)
from service.metrics import Metrics
from service.schemas import REQUEST_ID_PATTERN

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
log = logging.getLogger("policyqa.access")

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
# No request of this API nests deeper; Python's JSON parser gives up (RecursionError) near 1,000.
MAX_JSON_DEPTH = 32
_OPENERS = re.compile(r"[\[{]")
API_PREFIX = "/v1/"
ADMIN_PREFIX = "/v1/admin/"
API_KEY_HEADER = "X-API-Key"
ADMIN_KEY_HEADER = "X-Admin-Key"
JSON = "application/json"
MULTIPART = "multipart/form-data"  # an uploaded notice file


class RequestContext:
    """Give every request an id (the caller's ``X-Request-ID`` if sane), log it, and record its metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = Headers(scope=scope).get("x-request-id", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: int | None = None  # set once the response has started

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Raised past the app's handlers (from a middleware): answer here, where the request id is known.
            log.exception("unexpected error on %s %s", scope["method"], scope["path"], extra={"request_id": request_id})
            if status is not None:
                raise
            message = "the service failed to answer; the error is logged"
            await error_response(500, "internal_error", message)(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            mode = scope.get("state", {}).get("mode", "none")
            self.metrics.observe(endpoint, mode, status or 500, seconds)
            log.info(
                "%s %s %d %.1fms", scope["method"], scope["path"], status or 500, seconds * 1000,
                extra={"request_id": request_id},
            )  # fmt: skip
            request_id_var.reset(token)


class HeadAsGet:
    """Answer HEAD wherever GET is answered: the GET route runs, and its body is not sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_head)


class JSONRefusalCORS(CORSMiddleware):
    """Starlette's CORS middleware, with a refused preflight answered in the API's error shape and logged with its
    origin and path: a browser shows the page's visitor only that the service is unavailable."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        origin = headers.get("origin")
        # Starlette's own test for a preflight, made here to know the request's path when refusing one.
        if origin is None or scope["method"] != "OPTIONS" or "access-control-request-method" not in headers:
            await super().__call__(scope, receive, send)
            return
        response = self.preflight_response(headers)
        if response.status_code == 400:
            reason = bytes(response.body).decode()  # Disallowed CORS origin, method, headers
            advice = "" if self.is_allowed_origin(origin) else "; add it to POLICYQA_CORS_ORIGINS to serve that page"
            log.warning("refused a CORS preflight from origin %s for %s: %s%s", origin, scope["path"], reason, advice)
            cors = {name: value for name, value in response.headers.items() if name.startswith("access-control-")}
            response = error_response(400, "cors_refused", reason, cors)
        await response(scope, receive, send)


class KeyGuard:
    """Requests under ``prefix`` (but not under ``exempt``, which has a key of its own) must send ``key`` in the
    ``header`` header: the public API key on ``/v1/``, the admin key on ``/v1/admin/``. Checked before any body
    is read."""

    def __init__(self, app: ASGIApp, key: str, header: str, prefix: str, exempt: str | None = None) -> None:
        self.app = app
        self.key = key.encode()
        self.header = header
        self.prefix = prefix
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith(self.prefix)
            and not (self.exempt and path.startswith(self.exempt))
        ):
            sent = Headers(scope=scope).get(self.header.lower(), "").encode()
            if not hmac.compare_digest(sent, self.key):
                await error_response(401, "unauthorized", f"send a valid key in the {self.header} header")(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


class RateLimit:
    """A moving-window limit per client address on ``/v1/``, wrong API keys included. Behind a proxy,
    set POLICYQA_FORWARDED_ALLOW_IPS to its address so that the address is the caller's, not the proxy's;
    otherwise X-Forwarded-For is ignored, and cannot be rotated to escape the limit."""

    def __init__(self, app: ASGIApp, rate: str) -> None:
        self.app = app
        self.rate = limits.parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            client = (scope.get("client") or ("unknown",))[0]
            if not self.limiter.hit(self.rate, client):
                reset = self.limiter.get_window_stats(self.rate, client).reset_time
                retry_after = str(max(1, math.ceil(reset - time.time())))
                message = f"rate limit of {self.rate} exceeded; retry in {retry_after}s"
                await error_response(429, "rate_limited", message, {"Retry-After": retry_after})(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nested_too_deeply(text: str) -> bool:
    """Whether the JSON in ``text`` opens more than MAX_JSON_DEPTH arrays or objects in a row (counted
    cheaply, ignoring strings: a false alarm needs 32 brackets inside one question, and is still refused)."""
    if len(_OPENERS.findall(text)) <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


class BodyGuard:
    """A request body is checked as the endpoint reads it, so that a request is routed first (404, 405) and only a
    body an endpoint takes is judged. It must be JSON in UTF-8 and at most ``max_bytes`` (a larger one is refused as
    soon as it is known to be larger, without reading the rest); it may pause for ``timeout`` seconds at most, and
    must be whole within ``deadline`` seconds of the request's start (else 408: a trickle, a short Content-Length).
    An endpoint that takes an uploaded file takes multipart/form-data instead, of at most ``max_upload_bytes``
    within ``upload_deadline`` seconds.
    Refusals are raised as APIErrors, for the app's handler to answer."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        timeout: float,
        deadline: float,
        max_upload_bytes: int,
        upload_deadline: float,
    ) -> None:
        self.app = app
        self.limits = {JSON: (max_bytes, deadline), MULTIPART: (max_upload_bytes, upload_deadline)}
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = asyncio.get_running_loop().time()
        read = False

        async def receive_checked() -> Message:
            nonlocal read
            media_type = _body_media_type(scope)
            if read or media_type is None:  # a route without a body receives only to hear of a disconnect
                return await receive()
            read = True
            return await self._read(Headers(scope=scope), receive, started, media_type)

        await self.app(scope, receive_checked, send)

    async def _read(self, headers: Headers, receive: Receive, started: float, media_type: str) -> Message:
        """The whole body as one message once it has passed every check, or the client's disconnect."""
        max_bytes, within = self.limits[media_type]
        self._check_headers(headers, media_type, max_bytes)
        loop = asyncio.get_running_loop()
        body = bytearray()
        more = True
        while more:
            remaining = started + within - loop.time()
            try:
                async with asyncio.timeout(min(self.timeout, remaining)):  # no task of its own, unlike wait_for
                    message = await receive()
            except TimeoutError:
                raise self._too_slow(within if remaining <= self.timeout else None) from None
            if message["type"] == "http.disconnect":
                return message
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > max_bytes:
                raise _too_large(max_bytes)
        if media_type == JSON:
            _check_text(body)
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    @staticmethod
    def _check_headers(headers: Headers, media_type: str, max_bytes: int) -> None:
        sent, _, params = headers.get("content-type", "").partition(";")
        if sent.strip().lower() != media_type:
            raise UnsupportedMediaType(f"send the request body as {media_type}")
        charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
        if media_type == JSON and charset and charset.group(1).lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"send the body in UTF-8, not {charset.group(1)}")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise APIError(f"Content-Length {length!r} is not a number")
            if int(length) > max_bytes:
                raise _too_large(max_bytes)

    def _too_slow(self, deadline: float | None) -> RequestTimeout:
        """408 for a body that did not arrive whole within ``deadline`` seconds, or (None) that paused too long."""
        if deadline is not None:
            message = f"the request body did not arrive whole within {deadline:g}s"
        else:
            message = f"the request body paused for over {self.timeout:g}s"
        return RequestTimeout(message, {"Connection": "close"})


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {max_bytes} bytes")


def _body_media_type(scope: Scope) -> str | None:
    """The media type of the body the endpoint the request was routed to takes (JSON, or a multipart upload of a
    file), or None if it takes none."""
    route = scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return None
    return MULTIPART if getattr(route.body_field.field_info, "media_type", JSON) == MULTIPART else JSON


def _check_text(body: bytearray) -> None:
    """Refuse a body that is not UTF-8, or JSON nested too deeply to parse."""
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidUTF8(
            f"the request body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
        ) from None
    if _nested_too_deeply(text):
        raise MalformedJSON(f"the request body is not valid JSON here: nested more than {MAX_JSON_DEPTH} levels deep")


class FramingGuard:
    """Refuse a request that gives its body's length twice, in Content-Length and in Transfer-Encoding, and close the
    connection (RFC 9112 §6.3): a proxy that went by the other header would take part of the body for a request of
    its own (request smuggling)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            if "content-length" in headers and "transfer-encoding" in headers:
                message = "send the body's length in Content-Length or Transfer-Encoding, not both"
                await error_response(400, "bad_request", message, {"Connection": "close"})(scope, receive, send)
                return
        await self.app(scope, receive, send)
