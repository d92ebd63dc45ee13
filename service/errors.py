"""The API's errors: one JSON shape, ``{"error": {"code", "message"}}``, for every failure."""

from __future__ import annotations

import logging
from http import HTTPMethod
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from index import IndexUnavailableError
from service.schemas import ErrorResponse

log = logging.getLogger("policyqa.service")


class APIError(StarletteHTTPException):
    """An error the API reports to its caller; subclasses fix the status and code. An HTTPException, so that
    FastAPI passes it on to the handler when a middleware raises it while an endpoint reads the body."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(self.status, message, headers)
        self.message = message


class NotFound(APIError):
    status, code = 404, "not_found"


class RequestTimeout(APIError):
    status, code = 408, "request_timeout"


class PayloadTooLarge(APIError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(APIError):
    status, code = 415, "unsupported_media_type"


class InvalidUTF8(APIError):
    code = "invalid_utf8"


class MalformedJSON(APIError):
    code = "malformed_json"


class NotReady(APIError):
    status, code = 503, "not_ready"


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


# What any route may answer besides its own statuses, for the OpenAPI document.
ANY_ROUTE_ERRORS: dict[int | str, dict[str, Any]] = {
    405: _documented("The path does not answer this method; the Allow header lists the methods it does"),
    408: _documented("The headers or the body did not arrive in time"),
    431: _documented("The request headers are too large"),
    500: _documented("The service failed to answer; the error is logged"),
}
# What every /v1/ route may answer as well.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    **ANY_ROUTE_ERRORS,
    400: _documented("Malformed JSON, a body that is not UTF-8, or a bad Content-Length"),
    401: _documented("An API key is configured and the request did not send it in X-API-Key"),
    413: _documented("The request body is too large"),
    415: _documented("The request body is not application/json in UTF-8"),
    429: _documented("Over the per-client rate limit; Retry-After says when to retry"),
    503: _documented("The index is loading or could not be loaded; Retry-After says when to retry"),
}


def error_content(code: str, message: str) -> dict[str, dict[str, str]]:
    """The body of every error response."""
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response for an error."""
    return JSONResponse(error_content(code, message), status_code=status, headers=headers)


_STATUS_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    431: "headers_too_large",
    501: "not_implemented",
}


def error_code(status: int) -> str:
    """The error code of a status that no more particular error names."""
    return _STATUS_CODES.get(status, "bad_request" if status < 500 else "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can raise answer in the one error shape (an unexpected exception's 500
    is RequestContext's, where the request id is known)."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(IndexUnavailableError)
    async def _unavailable(request: Request, exc: IndexUnavailableError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, exc)  # one line: an outage is not a bug
        message = "the index's database cannot be reached; retry shortly"
        return error_response(503, "not_ready", message, {"Retry-After": "2"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        return error_response(422, "invalid_request", "; ".join(_describe(error) for error in errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request, exc)}
        return error_response(exc.status_code, error_code(exc.status_code), str(exc.detail), headers)


def _allowed_methods(request: Request, refusal: StarletteHTTPException) -> str:
    """A 405's Allow header: every method some route answers at the path (Starlette names only the first route's),
    and HEAD wherever GET is (HeadAsGet). A 405 from within a route that answers the method (StaticFiles) names its
    own."""
    scope = request.scope  # a mount's routes see a root path of their own; the app's routes see the app's
    path = {"type": "http", "path": scope["path"], "root_path": scope.get("app_root_path", scope.get("root_path", ""))}
    answered = {
        method
        for method in HTTPMethod
        if any(route.matches({**path, "method": method})[0] is Match.FULL for route in request.app.router.routes)
    }
    if request.method in answered:
        return (refusal.headers or {}).get("Allow", "")
    if HTTPMethod.GET in answered:
        answered.add(HTTPMethod.HEAD)
    return ", ".join(sorted(answered))


def _describe(error: dict) -> str:
    location = list(error.get("loc", ()))
    if location and location[0] in ("body", "query", "path", "header"):  # where it came from, not a field
        location = location[1:]
    where = ".".join(str(part) for part in location)
    return f"{where or 'body'}: {error.get('msg', 'invalid')}"
