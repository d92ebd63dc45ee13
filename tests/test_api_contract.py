"""The HTTP contract as a client meets it: HEAD, 500s, CORS refusals, redirects, paths, the order in which a request
is judged, the Allow header, and the OpenAPI document with the limits it states."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from retrieval import MODES
from service.app import create_app
from service.schemas import MAX_HISTORY, MAX_QUERY_CHARS, MAX_TOP_K, SearchResponse
from service.settings import Settings
from tests.conftest import LiveServer

PORTAL = "http://portal.example.gov.cn"


@pytest.fixture(scope="module")
def failing_server(default_index_dir: Path) -> Iterator[LiveServer]:
    """The service, with a route added that fails the way a bug would."""
    settings = Settings(index_dir=default_index_dir, cors_origins=[PORTAL], rate_limit=None)
    app = create_app(settings)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)
    live = LiveServer(settings, app).start()
    yield live
    live.stop()


def test_head_is_answered_wherever_get_is(failing_server: LiveServer) -> None:
    for path in ("/healthz", "/readyz", "/v1/documents", "/v1/search?q=外币", "/"):
        got, head = httpx.get(failing_server.url + path), httpx.head(failing_server.url + path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]


def test_a_search_answers_in_the_documented_shape(failing_server: LiveServer) -> None:
    """The route serialises its answer itself: it must still be the document's SearchResponse, every field present."""
    document = httpx.get(f"{failing_server.url}/openapi.json").json()
    fields = set(document["components"]["schemas"]["SearchResponse"]["properties"])
    result_fields = set(document["components"]["schemas"]["SearchResult"]["properties"])
    posted = httpx.post(f"{failing_server.url}/v1/search", json={"query": "外币租金", "top_k": 2})
    got = httpx.get(f"{failing_server.url}/v1/search", params={"q": "外币租金", "top_k": 2})
    for method in ("post", "get"):
        ok = document["paths"]["/v1/search"][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/SearchResponse"}
    for response in (posted, got):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        assert set(answer) == fields and answer["request_id"] == response.headers["x-request-id"]
        assert len(answer["results"]) == 2 and all(set(result) == result_fields for result in answer["results"])
        assert SearchResponse.model_validate(answer).model_dump(mode="json") == answer


def test_a_500_has_the_error_shape_and_a_request_id(failing_server: LiveServer) -> None:
    response = httpx.get(f"{failing_server.url}/v1/broken", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"] == "trace-500"
    assert httpx.get(f"{failing_server.url}/healthz").status_code == 200


def test_a_refused_cors_preflight_has_the_error_shape(failing_server: LiveServer) -> None:
    headers = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"}
    refused = httpx.options(f"{failing_server.url}/v1/search", headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "cors_refused", "message": "Disallowed CORS origin"}
    assert refused.headers["x-request-id"]
    allowed = httpx.options(f"{failing_server.url}/v1/search", headers={**headers, "Origin": PORTAL})
    assert allowed.status_code == 200


def test_a_trailing_slash_is_not_redirected_to_the_host_a_client_names(failing_server: LiveServer) -> None:
    response = httpx.get(f"{failing_server.url}/v1/documents/", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "evil.example" not in response.text


def test_not_ready_messages_name_settings_not_the_servers_directories(tmp_path: Path) -> None:
    empty = tmp_path / "no-index-here"
    live = LiveServer(Settings(index_dir=empty, auto_build=False, rate_limit=None)).start(wait_ready=False)
    try:
        ready = live.readiness()
        message = ready.json()["error"]["message"]
        assert ready.status_code == 503
        assert "POLICYQA_INDEX_DIR: no index has been built here" in message
        assert str(tmp_path) not in message
    finally:
        live.stop()


def test_openapi_lists_every_status_and_the_api_key(failing_server: LiveServer) -> None:
    document = httpx.get(f"{failing_server.url}/openapi.json").json()
    search = document["paths"]["/v1/search"]["post"]
    statuses = {"200", "400", "401", "405", "408", "413", "415", "422", "429", "431", "500", "503"}
    assert statuses <= set(search["responses"])
    assert search["security"] == [{"APIKeyHeader": []}]
    assert document["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Required when POLICYQA_API_KEY is set.",
    }
    assert {"405", "500", "503"} <= set(document["paths"]["/readyz"]["get"]["responses"])


def test_json_nested_20000_deep_is_malformed_json(failing_server: LiveServer) -> None:
    body = '{"query": ' + "[" * 20_000 + "]" * 20_000 + "}"
    response = httpx.post(f"{failing_server.url}/v1/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert "nested more than 32 levels" in response.json()["error"]["message"]


def test_the_widget_script_gets_the_apis_modes_limits_and_filters_from_the_server(failing_server: LiveServer) -> None:
    script = httpx.get(f"{failing_server.url}/static/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    filters = ["issuer", "region", "kind", "date_from", "date_to", "doc_id", "section"]
    limits = {
        "modes": list(MODES),
        "maxTopK": MAX_TOP_K,
        "maxQueryChars": MAX_QUERY_CHARS,
        "maxHistory": MAX_HISTORY,
        "filters": filters,
    }
    assert f"var LIMITS = {json.dumps(limits)};" in script.text
    assert "__POLICYQA_LIMITS__" not in script.text


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PUT", "/healthz", 405, "method_not_allowed"),
        ("POST", "/nope", 404, "not_found"),
        ("PATCH", "/v1/documents", 405, "method_not_allowed"),
        ("POST", "/static/widget.css", 405, "method_not_allowed"),
        ("PUT", "/v1/search", 405, "method_not_allowed"),
        ("POST", "/v1/search", 415, "unsupported_media_type"),
    ],
)
def test_the_route_is_judged_before_the_body(
    failing_server: LiveServer, method: str, path: str, status: int, code: str
) -> None:
    response = httpx.request(method, failing_server.url + path, content=b"q=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/v1/search", {"GET", "HEAD", "POST"}),
        ("DELETE", "/v1/search", {"GET", "HEAD", "POST"}),
        ("PUT", "/healthz", {"GET", "HEAD"}),
        ("DELETE", "/v1/passages/any:1", {"GET", "HEAD"}),
        ("POST", "/static/widget.css", {"GET", "HEAD"}),
    ],
)
def test_a_405_allows_every_method_the_path_answers(
    failing_server: LiveServer, method: str, path: str, allowed: set[str]
) -> None:
    response = httpx.request(method, failing_server.url + path, json={})
    assert response.status_code == 405
    assert {name.strip() for name in response.headers["allow"].split(",")} == allowed
    for name in allowed:  # each is answered, not refused
        assert httpx.request(name, failing_server.url + path, json={"query": "外币"}).status_code != 405


def _allowed_by(schema: dict, text: str) -> bool:
    """Whether a JSON Schema string's length and pattern allow ``text``."""
    length_ok = schema.get("minLength", 0) <= len(text) <= schema.get("maxLength", len(text))
    return length_ok and re.search(schema.get("pattern", ""), text) is not None


@pytest.mark.parametrize(
    "query",
    [
        "\u0003",
        " \u3000\t",
        "a",
        "外" * MAX_QUERY_CHARS,
        "外" * (MAX_QUERY_CHARS + 1),
        "外" * (MAX_QUERY_CHARS - 2) + "\x00\x01",
        "外" * MAX_QUERY_CHARS + "\x00\x01",
        "\x7f\x85 外币 \u2028",
        "😀",
    ],
    ids=lambda query: f"{len(query)} chars {query[:3]!r}",
)
def test_the_schema_states_the_query_limits_that_are_enforced(failing_server: LiveServer, query: str) -> None:
    document = httpx.get(f"{failing_server.url}/openapi.json").json()
    body_schema = document["components"]["schemas"]["SearchRequest"]["properties"]["query"]
    (param,) = [p for p in document["paths"]["/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    posted = httpx.post(f"{failing_server.url}/v1/search", json={"query": query, "top_k": 1})
    got = httpx.get(f"{failing_server.url}/v1/search", params={"q": query, "top_k": 1})
    assert posted.status_code == (200 if _allowed_by(body_schema, query) else 422), posted.text
    assert got.status_code == (200 if _allowed_by(param["schema"], query) else 422), got.text
