"""The HTTP server the app runs under: uvicorn, with limits on what a client may hold open or send.

uvicorn does not limit how long a client may take to send its request headers, and with
httptools not how large they may be. So requests are parsed by h11, through a protocol that
refuses headers over ``max_header_bytes`` (431) and closes a connection whose headers have not
all arrived within ``header_timeout`` seconds (408). A body that trickles in is BodyGuard's to
time out; idle keep-alive connections close after uvicorn's ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings

KEEP_ALIVE_SECONDS = 5


def raw_error(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response in the API's JSON shape, for use below the ASGI app."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a size limit and a deadline on each request's headers."""

    max_header_bytes = 16 * 1024
    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._head_tail = b""  # the last bytes seen, for a header end split across reads
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._header_timer is not None:  # still reading a request's headers: count them, not the body after
            seen = self._head_tail + data
            end = seen.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else end + 4 - len(self._head_tail)
            self._head_tail = seen[-3:]
            if self._header_bytes > self.max_header_bytes:
                message = f"request headers are larger than {self.max_header_bytes} bytes"
                self._refuse(431, "Request Header Fields Too Large", "headers_too_large", message)
                return
        super().data_received(data)
        if self.conn.their_state in (h11.SEND_BODY, h11.DONE):
            self._headers_arrived()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_headers()  # the next request on this connection gets the same deadline

    def _await_headers(self) -> None:
        self._headers_arrived()
        self._header_bytes, self._head_tail = 0, b""
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_arrived(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            if self._header_bytes == 0:  # an idle keep-alive connection: just close it
                self.transport.close()
                return
            message = f"request headers did not arrive within {self.header_timeout:g}s"
            self._refuse(408, "Request Timeout", "request_timeout", message)

    def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
        self._headers_arrived()
        self.logger.warning("refused a connection from %s: %s", self.client, message)
        if not self.transport.is_closing():
            self.transport.write(raw_error(status, reason, code, message))
            self.transport.close()


def server_config(app: Any, settings: Settings, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app``: the guarded protocol, and forwarded addresses trusted only
    from the proxies the settings name."""
    protocol = type(
        "ConfiguredH11Protocol",
        (GuardedH11Protocol,),
        {"max_header_bytes": settings.max_header_bytes, "header_timeout": settings.header_timeout},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        **options,
    )
