"""What a client may send and hold open, over raw sockets to a real server: header size and time limits,
slow and short bodies, the rate limit before the API key, forwarded addresses, and log lines that cannot be forged."""

from __future__ import annotations

import json
import os
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


@pytest.fixture(scope="module")
def strict_server(default_index_dir: Path) -> Iterator[LiveServer]:
    settings = Settings(index_dir=default_index_dir, rate_limit=None, header_timeout=TIMEOUT, body_timeout=TIMEOUT)
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
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]["code"]


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
