"""What a client may send and hold open, over raw sockets to a real server: header size and time limits,
slow and short bodies, ambiguous framing, what the server itself refuses, the rate limit before the API key,
forwarded addresses, and log lines that cannot be forged."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from tests.commands import POLICYQA
from tests.conftest import LiveServer, free_port

TIMEOUT = 1.0
DEADLINE = 3.0


@pytest.fixture(scope="module")
def strict_server(default_index_dir: Path) -> Iterator[LiveServer]:
    settings = Settings(
        index_dir=default_index_dir,
        rate_limit=None,
        header_timeout=TIMEOUT,
        body_timeout=TIMEOUT,
        body_deadline=DEADLINE,
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


def exchange(server: LiveServer, *parts: bytes, pause: float = 0.0, wait: float = 10.0) -> tuple[bytes, float]:
    """Send ``parts`` (``pause`` seconds apart) on a new connection; what the server answered before
    closing it, and after how many seconds."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        started = time.monotonic()
        try:
            for part in parts:
                sock.sendall(part)
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed first; what it said is still to be read
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer, time.monotonic() - started


def status_and_error(answer: bytes) -> tuple[int, str]:
    """The status and error code of the one response in ``answer``, once its shape and request id are checked."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    assert headers["content-type"] == "application/json", answer
    assert headers["x-request-id"], answer
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"}, answer
    return int(status_line.split()[1]), error["code"]


def trickle(server: LiveServer, head: bytes, body: bytes, pause: float) -> tuple[bytes, int]:
    """Send ``head``, then ``body`` a byte every ``pause`` seconds for as long as the server keeps the connection
    open: what it answered, and how many bytes of the body it had been sent by then."""
    answer, sent = b"", 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            while sent < len(body):
                if select.select([sock], [], [], pause)[0]:
                    if not (chunk := sock.recv(65536)):
                        return answer, sent
                    answer += chunk
                else:
                    sock.sendall(body[sent : sent + 1])
                    sent += 1
            while chunk := sock.recv(65536):
                answer += chunk
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # closed, or still open once the whole body was sent: either way, the answer is complete
        return answer, sent


@pytest.mark.parametrize(
    "headers",
    [b"X-Big: " + b"a" * 8_000_000 + b"\r\n", b"".join(b"X-%d: v\r\n" % i for i in range(100_000))],
    ids=["one 8 MB header", "100,000 headers"],
)
def test_oversized_headers_get_431(strict_server: LiveServer, headers: bytes) -> None:
    answer, _ = exchange(strict_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    assert status_and_error(answer) == (431, "headers_too_large")
    assert httpx.get(f"{strict_server.url}/healthz").status_code == 200


def test_headers_that_trickle_in_get_408_and_the_connection_closed(strict_server: LiveServer) -> None:
    answer, seconds = exchange(strict_server, b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: 1\r\n", pause=0.6)
    assert status_and_error(answer) == (408, "request_timeout")
    assert seconds < TIMEOUT + 2


def test_an_idle_connection_is_closed(strict_server: LiveServer) -> None:
    answer, seconds = exchange(strict_server)
    assert answer == b""
    assert seconds < TIMEOUT + 2


def test_a_body_shorter_than_its_content_length_gets_408(strict_server: LiveServer) -> None:
    head = b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    answer, seconds = exchange(strict_server, head + b'{"query": "x"')
    assert status_and_error(answer) == (408, "request_timeout")
    assert seconds < TIMEOUT + 2


def test_a_body_sent_a_byte_at_a_time_gets_408(strict_server: LiveServer) -> None:
    body = '{"query": "外币"}'.encode()
    head = b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    parts = [head % len(body), *(body[i : i + 1] for i in range(len(body)))]
    answer, _ = exchange(strict_server, *parts, pause=TIMEOUT * 1.5)
    assert status_and_error(answer) == (408, "request_timeout")


def test_keep_alive_requests_still_work(strict_server: LiveServer) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            assert client.get(f"{strict_server.url}/healthz").status_code == 200


@pytest.fixture
def keyed_server(default_index_dir: Path) -> Iterator[LiveServer]:
    live = LiveServer(Settings(index_dir=default_index_dir, api_key="s3cret", rate_limit="5/minute")).start()
    yield live
    live.stop()


def test_wrong_api_keys_count_against_the_rate_limit(keyed_server: LiveServer) -> None:
    statuses = [
        httpx.get(f"{keyed_server.url}/v1/documents", headers={"X-API-Key": f"guess-{n}"}).status_code for n in range(8)
    ]
    assert statuses == [401] * 5 + [429] * 3


def test_a_rotated_x_forwarded_for_does_not_escape_the_limit(keyed_server: LiveServer) -> None:
    statuses = [
        httpx.get(
            f"{keyed_server.url}/v1/documents", headers={"X-API-Key": "s3cret", "X-Forwarded-For": f"203.0.113.{n}"}
        ).status_code
        for n in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3


@pytest.mark.slow
def test_a_newline_in_the_path_cannot_forge_a_log_line(default_index_dir: Path) -> None:
    port = free_port()
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(default_index_dir), "POLICYQA_RATE_LIMIT": ""}
    served = subprocess.Popen([*POLICYQA, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    forged = "2026-01-01 00:00:00,000 INFO policyqa.access [forged] GET /v1/documents 200 1.0ms"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        path = "/v1/nothing%0a" + forged.replace(" ", "%20")
        assert httpx.get(f"http://127.0.0.1:{port}{path}").status_code == 404
    finally:
        served.terminate()
        _, log = served.communicate(timeout=30)
    assert not any(line.startswith(forged) for line in log.splitlines())
    assert "GET /v1/nothing\\x0a2026-01-01 00:00:00,000 INFO policyqa.access [forged]" in log


def test_a_body_larger_than_the_header_limit_is_not_mistaken_for_headers(strict_server: LiveServer) -> None:
    query = "融资租赁公司能收外币租金吗"
    body = json.dumps({"query": query, "filters": {"section": None}, "pad": "x" * 40_000}).encode()
    head = b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    answer, _ = exchange(strict_server, head % len(body) + body)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b":3.3.17" in answer


SEARCH_HEAD = b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
# About ten seconds to send at a quarter of the pause limit: well past the deadline, never a pause too long.
SLOW_BODY = b'{"query": "' + "外币".encode() + b'"}' + b" " * 20
SLOW_PAUSE = TIMEOUT / 4


def test_a_body_that_trickles_in_gets_408_at_the_overall_deadline(strict_server: LiveServer) -> None:
    answer, sent = trickle(strict_server, SEARCH_HEAD % len(SLOW_BODY), SLOW_BODY, SLOW_PAUSE)
    assert status_and_error(answer) == (408, "request_timeout")
    assert f"within {DEADLINE:g}s".encode() in answer
    assert sent < len(SLOW_BODY)


def test_a_body_the_app_did_not_read_is_cut_off_at_the_overall_deadline(strict_server: LiveServer) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(SLOW_BODY)
    answer, sent = trickle(strict_server, head, SLOW_BODY, SLOW_PAUSE)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.count(b"HTTP/1.1 ") == 1
    assert sent < len(SLOW_BODY)


def test_a_connection_idle_after_an_unread_body_is_closed(strict_server: LiveServer) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    answer, _ = exchange(strict_server, head, b"hello", pause=TIMEOUT * 1.5)  # the body after the answer
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize("request_line", [b"POST /v1/search HTTP/1.1", b"GET /healthz HTTP/1.1"])
def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(
    strict_server: LiveServer, request_line: bytes
) -> None:
    body = b'{"query": "x"}'
    smuggled = (
        request_line + b"\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )
    answer, _ = exchange(strict_server, smuggled + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_and_error(answer) == (400, "bad_request")
    assert b"Transfer-Encoding" in answer
    assert b"connection: close" in answer.lower()


@pytest.mark.parametrize(
    ("unparsable", "status", "words"),
    [
        (b"GET /healthz HTTP/1.1\r\n\r\n", 400, b"Missing mandatory Host"),
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, b"multiple Host"),
        (SEARCH_HEAD.replace(b"%d", b"-1"), 400, b"bad Content-Length"),
        ("GET /政策 HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400, b"illegal request line"),
        (b"POST /v1/search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, b"chunked"),
    ],
    ids=["no Host", "two Hosts", "Content-Length -1", "non-ASCII target", "unknown transfer coding"],
)
def test_requests_the_server_cannot_parse_get_the_error_shape(
    strict_server: LiveServer, unparsable: bytes, status: int, words: bytes
) -> None:
    answer, _ = exchange(strict_server, unparsable)
    assert status_and_error(answer) == (status, "bad_request" if status == 400 else "not_implemented")
    assert words in answer


def test_a_websocket_upgrade_is_answered_as_plain_http(
    strict_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade = (
        b"Host: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    answer, _ = exchange(strict_server, b"GET /v1/stream HTTP/1.1\r\n" + upgrade)
    assert status_and_error(answer) == (404, "not_found")
    answer, _ = exchange(strict_server, b"GET /healthz HTTP/1.1\r\n" + upgrade)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert "WebSocket library" not in caplog.text  # uvicorn's advice to install one, for a service that serves none
