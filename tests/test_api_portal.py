"""What portals need: CORS, an optional API key, rate limits, request ids, metrics, cached query embeddings."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index import DirectoryIndex
from retrieval import RetrievalRequest, Retriever
from service.settings import Settings
from tests.conftest import LiveServer, preflight

PORTAL = "http://portal.example.gov.cn"


@pytest.fixture(scope="module")
def portal_server(default_index_dir: Path) -> Iterator[LiveServer]:
    settings = Settings(index_dir=default_index_dir, cors_origins=[PORTAL], api_key="s3cret", rate_limit="5/minute")
    live = LiveServer(settings).start()
    yield live
    live.stop()


def test_cors_is_off_unless_origins_are_configured(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/v1/search", json={"query": "外币"}, headers={"Origin": PORTAL})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_configured_origin_only(portal_server: LiveServer) -> None:
    asked = preflight(f"{portal_server.url}/v1/search", PORTAL, headers="content-type, x-api-key")
    assert asked.status_code == 200
    assert asked.headers["access-control-allow-origin"] == PORTAL
    assert "x-api-key" in asked.headers["access-control-allow-headers"].lower()
    other = httpx.options(
        f"{portal_server.url}/v1/search",
        headers={"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers


def test_a_refused_preflight_is_logged_with_its_origin_and_path(
    portal_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = "http://elsewhere.example"
    with caplog.at_level(logging.INFO, logger="policyqa.access"):
        refused = httpx.options(
            f"{portal_server.url}/v1/search", headers={"Origin": elsewhere, "Access-Control-Request-Method": "POST"}
        )
        allowed = httpx.options(
            f"{portal_server.url}/v1/documents", headers={"Origin": PORTAL, "Access-Control-Request-Method": "GET"}
        )
        bad_method = httpx.options(
            f"{portal_server.url}/v1/documents", headers={"Origin": PORTAL, "Access-Control-Request-Method": "PATCH"}
        )
    assert (refused.status_code, refused.json()["error"]["code"], allowed.status_code) == (400, "cors_refused", 200)
    assert bad_method.status_code == 400
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"refused a CORS preflight from origin {elsewhere} for /v1/search: Disallowed CORS origin; "
        "add it to POLICYQA_CORS_ORIGINS to serve that page",
        f"refused a CORS preflight from origin {PORTAL} for /v1/documents: Disallowed CORS method",
    ]


def test_api_key_is_required_on_the_api_but_not_on_probes(portal_server: LiveServer) -> None:
    missing = httpx.post(f"{portal_server.url}/v1/search", json={"query": "外币"}, headers={"Origin": PORTAL})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert "X-API-Key" in missing.json()["error"]["message"]
    assert missing.headers["access-control-allow-origin"] == PORTAL  # a browser widget can read the error
    wrong = httpx.get(f"{portal_server.url}/v1/documents", headers={"X-API-Key": "guess"})
    assert wrong.status_code == 401
    assert httpx.get(f"{portal_server.url}/healthz").status_code == 200
    assert httpx.get(f"{portal_server.url}/readyz").status_code == 200


def test_rate_limit_answers_429_with_retry_after(portal_server: LiveServer) -> None:
    key = {"X-API-Key": "s3cret"}
    statuses = [
        httpx.get(f"{portal_server.url}/v1/search", params={"q": "外币"}, headers=key).status_code for _ in range(7)
    ]
    assert 200 in statuses and statuses[-1] == 429
    limited = httpx.get(f"{portal_server.url}/v1/search", params={"q": "外币"}, headers=key)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert httpx.get(f"{portal_server.url}/healthz").status_code == 200  # probes are not limited


def test_every_response_and_log_line_carries_a_request_id(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="policyqa.access"):
        supplied = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "portal-42"})
        generated = httpx.post(f"{server.url}/v1/search", json={"query": ""})
    assert supplied.headers["x-request-id"] == "portal-42"
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    assert (
        httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "bad id;" + "x" * 80}).headers["x-request-id"]
        != "bad id;" + "x" * 80
    )
    access = [(r.getMessage(), getattr(r, "request_id", None)) for r in caplog.records if r.name == "policyqa.access"]
    assert any(m.startswith("GET /healthz 200 ") and rid == "portal-42" for m, rid in access)
    search_id = generated.headers["x-request-id"]
    assert any(m.startswith("POST /v1/search 422 ") and rid == search_id for m, rid in access)


def test_metrics_count_requests_errors_and_latency_by_endpoint_and_mode(server: LiveServer) -> None:
    httpx.post(f"{server.url}/v1/search", json={"query": "外币", "mode": "bm25"})
    httpx.post(f"{server.url}/v1/search", json={"query": "外币", "top_k": 0})
    text = httpx.get(f"{server.url}/metrics").text
    assert re.search(r'policyqa_requests_total\{endpoint="/v1/search",mode="bm25",status="200"\} [1-9]', text)
    assert re.search(r'policyqa_errors_total\{endpoint="/v1/search",mode="none",status="422"\} [1-9]', text)
    assert re.search(r'policyqa_request_duration_seconds_bucket\{endpoint="/v1/search",le="0.1",mode="bm25"\}', text)


def test_repeated_questions_reuse_the_query_embedding(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    before = retriever.query_vector.cache_info()
    retriever.search(RetrievalRequest("一个重复的问题：外币租金", mode="dense"))
    retriever.search(RetrievalRequest("一个重复的问题：外币租金", mode="hybrid"))
    after = retriever.query_vector.cache_info()
    assert after.misses == before.misses + 1
    assert after.hits == before.hits + 1
