"""The HTTP server the app runs under: uvicorn, with limits on what a client may hold open or send, and
every refusal of its own in the API's error shape.

uvicorn does not limit how long a client may take to send its request headers, and with httptools not how large
they may be. So requests are parsed by h11, through a protocol that refuses headers over ``max_header_bytes`` (431)
and closes a connection whose headers have not all arrived within ``header_timeout`` seconds (408). A body the app
reads is BodyGuard's to time out; the rest of one the app answered without reading must arrive within
``body_deadline`` seconds of the answer, or the connection is closed. Idle keep-alive connections close after
uvicorn's ``timeout_keep_alive``. A request h11 cannot parse (no Host, a bad Content-Length) is answered in the API's
shape, not uvicorn's plain text. The service serves no WebSockets, so an upgrade is answered as plain HTTP
(RFC 9110 §7.8) instead of with uvicorn's empty 403.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import uuid
from http import HTTPStatus
from typing import Any, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import error_code, error_content
from service.settings import Settings

KEEP_ALIVE_SECONDS = 5


def raw_error(status: int, message: str, request_id: str) -> bytes:
    """A complete HTTP/1.1 error response in the API's JSON shape, for use below the ASGI app."""
    body = json.dumps(error_content(error_code(status), message)).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a size limit on each request's head, deadlines on what a client owes, and its
    refusals in the API's shape."""

    def __init__(
        self, *args: Any, max_header_bytes: int, header_timeout: float, body_deadline: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.header_timeout = header_timeout
        self.body_deadline = body_deadline
        self._header_bytes = 0
        self._head_tail = b""  # the last bytes seen, for a header end split across reads
        self._awaited: Literal["head", "body"] | None = None  # what the connection waits for from the client
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow_client()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaited == "head":  # count the request's head, not the body after it
            seen = self._head_tail + data
            end = seen.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else end + 4 - len(self._head_tail)
            self._head_tail = seen[-3:]
            if self._header_bytes > self.max_header_bytes:
                self._refuse(431, f"request headers are larger than {self.max_header_bytes} bytes")
                return
        super().data_received(data)
        self._follow_client()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._follow_client()

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 cannot parse, with h11's reason and the status it suggests (431 for an over-long
        head, 501 for an unknown transfer coding)."""
        error = sys.exc_info()[1]  # uvicorn calls this while it handles h11's error, and passes on only its own text
        self._refuse(getattr(error, "error_status_hint", 400), f"the request is not valid HTTP/1.1: {error or msg}")

    def _unsupported_upgrade_warning(self) -> None:
        """Nothing to warn of: the service serves no WebSockets by choice (ws="none"), so uvicorn's advice to install
        a WebSocket library does not apply, and the upgrade is answered as plain HTTP."""

    def _follow_client(self) -> None:
        """Set the deadline of what the connection now waits for from the client: a request's head, or the rest of a
        body the app answered without reading. A body the app reads is BodyGuard's to time out."""
        their, ours = self.conn.their_state, self.conn.our_state
        awaited: Literal["head", "body"] | None = None
        if their is h11.IDLE and ours is h11.IDLE:
            awaited = "head"
        elif their is h11.SEND_BODY and ours is h11.DONE:
            awaited = "body"
        if awaited == self._awaited:
            return  # its deadline is set: it is for the whole head or body, not for each read
        self._stop_deadline()
        self._awaited = awaited
        if awaited == "head":
            self._header_bytes, self._head_tail = 0, b""
            self._deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)
        elif awaited == "body":
            self._deadline = self.loop.call_later(self.body_deadline, self._body_too_slow)

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_too_slow(self) -> None:
        self._deadline = None
        if self._header_bytes == 0:  # an idle keep-alive connection: just close it
            self.transport.close()
            return
        self._refuse(408, f"request headers did not arrive within {self.header_timeout:g}s")

    def _body_too_slow(self) -> None:
        self._deadline = None
        self._refuse(408, f"the rest of the request body did not arrive within {self.body_deadline:g}s of the answer")

    def _refuse(self, status: int, message: str) -> None:
        """Answer with an error where a response may still be written (else it is only logged), and close."""
        self._stop_deadline()
        if self.transport.is_closing():
            return
        request_id = uuid.uuid4().hex
        self.logger.warning("refused a request from %s: %s", self.client, message, extra={"request_id": request_id})
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.write(raw_error(status, message, request_id))
        self.transport.close()


def server_config(app: Any, settings: Settings, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` (or, for several worker processes, the import string of an app
    factory): the guarded protocol, no WebSockets, and forwarded addresses trusted only from the proxies the
    settings name."""
    # A partial of a module-level class, not a class made here: each worker process unpickles the config.
    protocol = functools.partial(
        GuardedH11Protocol,
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout,
        body_deadline=settings.body_deadline,
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        ws="none",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        **options,
    )
