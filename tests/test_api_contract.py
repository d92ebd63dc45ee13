"""The HTTP contract as a client meets it: HEAD, 500s, CORS refusals, redirects, paths, and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from retrieval import MODES
from service.app import create_app
from service.schemas import MAX_QUERY_CHARS, MAX_TOP_K
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
    assert {"200", "400", "401", "408", "413", "415", "422", "429", "431", "500", "503"} <= set(search["responses"])
    assert search["security"] == [{"APIKeyHeader": []}]
    assert document["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Required when POLICYQA_API_KEY is set.",
    }
    assert {"500", "503"} <= set(document["paths"]["/readyz"]["get"]["responses"])


def test_json_nested_20000_deep_is_malformed_json(failing_server: LiveServer) -> None:
    body = '{"query": ' + "[" * 20_000 + "]" * 20_000 + "}"
    response = httpx.post(f"{failing_server.url}/v1/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert "nested more than 32 levels" in response.json()["error"]["message"]


def test_the_widget_script_gets_the_apis_modes_and_limits_from_the_server(failing_server: LiveServer) -> None:
    script = httpx.get(f"{failing_server.url}/static/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    limits = {"modes": list(MODES), "maxTopK": MAX_TOP_K, "maxQueryChars": MAX_QUERY_CHARS}
    assert f"var LIMITS = {json.dumps(limits)};" in script.text
    assert "__POLICYQA_LIMITS__" not in script.text
