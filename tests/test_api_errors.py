"""Bad input against the real app over a socket: always a clear 4xx in one shape, never a 500 or a hang."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service.schemas import MAX_QUERY_CHARS
from tests.conftest import DOC_ID, LiveServer


@pytest.fixture
def server(api_server: LiveServer) -> LiveServer:
    """Every test here that takes ``server`` runs on both backends."""
    return api_server


def assert_error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    for word in words:
        assert word in body["error"]["message"]
    assert response.headers["x-request-id"]


def post(server: LiveServer, body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/search", json=body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"query": ""}, ["query", "empty or only whitespace"]),
        ({"query": "  \n\t\u3000 "}, ["query", "empty or only whitespace"]),
        ({"query": "外" * (MAX_QUERY_CHARS + 1)}, ["query", f"at most {MAX_QUERY_CHARS} are allowed"]),
        ({"query": "外币", "top_k": 0}, ["top_k", "greater than or equal to 1"]),
        ({"query": "外币", "top_k": 51}, ["top_k", "less than or equal to 50"]),
        ({"query": "外币", "top_k": "five"}, ["top_k", "integer"]),
        ({"query": "外币", "top_k": 2.5}, ["top_k", "integer"]),
        ({"query": "外币", "mode": "fuzzy"}, ["mode", "'hybrid', 'bm25' or 'dense'"]),
        ({"query": 123}, ["query", "string"]),
        ({"query": None}, ["query", "string"]),
        ({"query": ["外币"]}, ["query", "string"]),
        ({"top_k": 3}, ["query", "Field required"]),
        ({"query": "外币", "filters": {"province": "海南"}}, ["filters.province", "Extra inputs"]),
        ({"query": "外币", "filters": {"region": "火星"}}, ["filters.region", "'火星' is not a region of China"]),
        ({"query": "外币", "filters": {"kind": "命令"}}, ["filters.kind", "not a kind of notice", "通知"]),
        ({"query": "外币", "filters": {"date_from": "2020/01/01"}}, ["filters.date_from", "pattern"]),
        ([1, 2], ["body"]),
        ("外币", ["body"]),
        (42, ["body"]),
    ],
)
def test_invalid_requests_name_what_was_wrong(server: LiveServer, body: Any, words: list[str]) -> None:
    assert_error(post(server, body), 422, "invalid_request", *words)


def test_malformed_json(server: LiveServer) -> None:
    response = httpx.post(
        f"{server.url}/v1/search", content='{"query": "外币",'.encode(), headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json", "not valid JSON")


def test_invalid_utf8(server: LiveServer) -> None:
    response = httpx.post(
        f"{server.url}/v1/search", content=b'{"query": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_utf8", "not valid UTF-8", "0xff")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=gbk"]
)
def test_wrong_content_type(server: LiveServer, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(f"{server.url}/v1/search", content=b'{"query": "x"}', headers=headers)
    assert_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_cap_is_refused_before_it_is_sent(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\n\r\n{"
        )  # announces 10 MB, sends one byte: the answer must not wait for the rest
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert '"payload_too_large"' in reply


def test_a_streamed_body_over_the_cap_is_cut_off(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = httpx.post(f"{server.url}/v1/search", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large", str(64 * 1024))


def test_unknown_and_path_shaped_passage_ids_are_404(server: LiveServer) -> None:
    assert_error(httpx.get(f"{server.url}/v1/passages/{DOC_ID}:9.9.99"), 404, "not_found", "9.9.99")
    assert_error(httpx.get(f"{server.url}/v1/passages/..%2F..%2Fetc%2Fpasswd"), 404, "not_found")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", "/v1/passages/../../etc/passwd")  # sent as is, not normalised
    raw = connection.getresponse()
    assert raw.status == 404
    assert json.loads(raw.read())["error"]["code"] == "not_found"


def test_unknown_route_and_wrong_method(server: LiveServer) -> None:
    assert_error(httpx.get(f"{server.url}/v1/nothing"), 404, "not_found")
    assert_error(httpx.delete(f"{server.url}/v1/search"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("params", "words"),
    [({}, ["q", "Field required"]), ({"q": "外币", "top_k": "abc"}, ["top_k"]), ({"q": " "}, ["q", "empty"])],
)
def test_get_search_validates_its_parameters(server: LiveServer, params: dict[str, str], words: list[str]) -> None:
    assert_error(httpx.get(f"{server.url}/v1/search", params=params), 422, "invalid_request", *words)


@pytest.mark.parametrize(
    "query",
    [
        "钦州港\x00片区\x1b汽车\x7f进口",
        "😀😀😀",
        "？？？！！！",
        "<script>alert('x')</script> 平行进口",
        "'; DROP TABLE passages; --",
        "Can a Vietnamese worker stay in Chongzuo for half a year?",
        "a",
    ],
)
def test_odd_but_valid_questions_are_answered(server: LiveServer, query: str) -> None:
    response = post(server, {"query": query, "top_k": 3})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["results"], list)


def test_lone_surrogates_are_dropped_not_crashed_on(server: LiveServer) -> None:
    body = b'{"query": "\\udfff\\ud83d\\u5916\\u5e01"}'  # a lone low and a lone high surrogate, then 外币
    response = httpx.post(f"{server.url}/v1/search", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["query"] == "外币"


def test_a_question_of_only_control_characters_is_empty(server: LiveServer) -> None:
    assert_error(post(server, {"query": "\x00\x01\x02"}), 422, "invalid_request", "empty")
