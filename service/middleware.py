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
from starlette.responses import Response
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

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
log = logging.getLogger("policyqa.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# No request of this API nests deeper; Python's JSON parser gives up (RecursionError) near 1,000.
MAX_JSON_DEPTH = 32
_OPENERS = re.compile(r"[\[{]")
_API_PREFIX = "/v1/"
API_KEY_HEADER = "X-API-Key"


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
    """Starlette's CORS middleware, with a refused preflight answered in the API's error shape."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        headers = {name: value for name, value in response.headers.items() if name.startswith("access-control-")}
        return error_response(400, "cors_refused", bytes(response.body).decode(), headers)


class APIKeyGuard:
    """When an API key is configured, ``/v1/`` requests must send it in the ``X-API-Key`` header."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_API_PREFIX):
            sent = Headers(scope=scope).get(API_KEY_HEADER.lower(), "").encode()
            if not hmac.compare_digest(sent, self.api_key):
                message = f"send a valid API key in the {API_KEY_HEADER} header"
                await error_response(401, "unauthorized", message)(scope, receive, send)
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
        if scope["type"] == "http" and scope["path"].startswith(_API_PREFIX):
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
    Refusals are raised as APIErrors, for the app's handler to answer."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float, deadline: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.deadline = deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.deadline
        read = False

        async def receive_checked() -> Message:
            nonlocal read
            if read or not _takes_json(scope):  # a route without a body receives only to hear of a disconnect
                return await receive()
            read = True
            return await self._read(Headers(scope=scope), receive, deadline)

        await self.app(scope, receive_checked, send)

    async def _read(self, headers: Headers, receive: Receive, deadline: float) -> Message:
        """The whole body as one message once it has passed every check, or the client's disconnect."""
        self._check_headers(headers)
        loop = asyncio.get_running_loop()
        body = bytearray()
        more = True
        while more:
            remaining = deadline - loop.time()
            try:
                message = await asyncio.wait_for(receive(), min(self.timeout, remaining))
            except TimeoutError:
                raise self._too_slow(whole=remaining <= self.timeout) from None
            if message["type"] == "http.disconnect":
                return message
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                raise self._too_large()
        _check_text(body)
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    def _check_headers(self, headers: Headers) -> None:
        media_type, _, params = headers.get("content-type", "").partition(";")
        if media_type.strip().lower() != "application/json":
            raise UnsupportedMediaType("send the request body as application/json")
        charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
        if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"send the body in UTF-8, not {charset.group(1)}")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise APIError(f"Content-Length {length!r} is not a number")
            if int(length) > self.max_bytes:
                raise self._too_large()

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than {self.max_bytes} bytes")

    def _too_slow(self, whole: bool) -> RequestTimeout:
        if whole:
            message = f"the request body did not arrive whole within {self.deadline:g}s"
        else:
            message = f"the request body paused for over {self.timeout:g}s"
        return RequestTimeout(message, {"Connection": "close"})


def _takes_json(scope: Scope) -> bool:
    """Whether the request has been routed to an endpoint that takes a JSON body."""
    route = scope.get("route")
    return isinstance(route, APIRoute) and route.body_field is not None


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
