"""The admin API over a real socket, on both stores: notices added, replaced and removed in the index and the
corpus folder together, the folder re-read, and files left out named."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from tests.conftest import DOC_ID, FIXTURES, LiveServer

ADMIN_KEY = "admin-key-of-the-portal-team"
PUBLIC_KEY = "public-key-of-the-widget"
ADMIN = {"X-Admin-Key": ADMIN_KEY}
PUBLIC = {"X-API-Key": PUBLIC_KEY}
EXPORT = FIXTURES / "export-tax-rebate-service.txt"


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def admin_server(
    request: pytest.FixtureRequest, corpus_copy: Path, seeded_index_dir: Path
) -> Iterator[tuple[LiveServer, Path, str]]:
    """A server with the admin API on, over a corpus folder of its own; that folder; and the store's name."""
    settings = {"corpus_dir": corpus_copy, "index_dir": seeded_index_dir, "admin_key": ADMIN_KEY}
    settings |= {"api_key": PUBLIC_KEY, "rate_limit": None}
    if request.param == "postgres":
        dsn = request.getfixturevalue("pg_server").create_database(f"admin{id(corpus_copy)}")
        settings |= {"backend": "postgres", "database_url": dsn}
    live = LiveServer(Settings(**settings)).start(timeout=300)
    yield live, corpus_copy, request.param
    live.stop()


def upload(url: str, name: str, content: bytes, **form: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/admin/notices", files={"file": (name, content)}, data=form, headers=ADMIN, timeout=120)


def top_doc(url: str, query: str) -> str:
    response = httpx.post(f"{url}/v1/search", json={"query": query, "top_k": 1}, headers=PUBLIC, timeout=30)
    return response.json()["results"][0]["doc_id"]


def library(url: str) -> dict:
    return httpx.get(f"{url}/v1/admin/notices", headers=ADMIN).json()


def test_an_uploaded_notice_is_searchable_and_in_the_folder_and_a_deleted_one_in_neither(
    admin_server: tuple[LiveServer, Path, str],
) -> None:
    server, corpus, _ = admin_server
    added = upload(
        server.url, "../../export-tax-rebate-service.txt", EXPORT.read_bytes(), source_url="https://a.gov.cn/1"
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["doc_id"], body["file"], body["source_url"]) == (
        "export-tax-rebate-service",
        "export-tax-rebate-service.txt",
        "https://a.gov.cn/1",
    )
    assert body["passage_count"] > 0
    assert (corpus / "export-tax-rebate-service.txt").read_bytes() == EXPORT.read_bytes()  # in the folder, not above
    assert not list(corpus.parent.glob("export-tax-rebate-service*"))
    assert top_doc(server.url, "出口退税容缺办理") == "export-tax-rebate-service"
    # The API and `policyqa index` agree: re-reading the folder finds nothing to do.
    synced = httpx.post(f"{server.url}/v1/admin/sync", headers=ADMIN, timeout=120).json()
    assert (synced["action"], synced["notices"], synced["rejected"]) == ("loaded", 2, [])
    assert {(n["doc_id"], n["status"]) for n in library(server.url)["notices"]} == {
        (DOC_ID, "indexed"),
        ("export-tax-rebate-service", "indexed"),
    }

    assert httpx.delete(f"{server.url}/v1/admin/notices/export-tax-rebate-service", headers=ADMIN).status_code == 204
    assert not (corpus / "export-tax-rebate-service.txt").exists()
    assert not (corpus / "export-tax-rebate-service.txt.url").exists()
    assert top_doc(server.url, "出口退税容缺办理") == DOC_ID
    again = httpx.delete(f"{server.url}/v1/admin/notices/export-tax-rebate-service", headers=ADMIN)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "not_found")


def test_an_upload_replaces_the_notice_of_its_id_in_another_format(admin_server: tuple[LiveServer, Path, str]) -> None:
    server, corpus, _ = admin_server
    assert upload(server.url, "export-tax-rebate-service.txt", EXPORT.read_bytes()).status_code == 201
    page = f"<html><body><h1>出口退税服务通知</h1><p>{EXPORT.read_text(encoding='utf-8')}</p></body></html>"
    replaced = upload(server.url, "export-tax-rebate-service.html", page.encode())
    assert replaced.status_code == 201, replaced.text
    assert sorted(p.name for p in corpus.iterdir() if not p.name.startswith(".")) == [
        "export-tax-rebate-service.html",
        f"{DOC_ID}.txt",
    ]
    notices = {n["doc_id"]: n for n in library(server.url)["notices"]}
    assert notices["export-tax-rebate-service"]["file"] == "export-tax-rebate-service.html"
    assert notices["export-tax-rebate-service"]["status"] == "indexed"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty.txt: is empty"),
        ("scan.pdf", b"%PDF-1.4 not really", "scan.pdf: is not a readable PDF"),
        ("old.doc", b"\xd0\xcf\x11\xe0", "old.doc: not a notice format policyqa reads"),
        (".hidden.txt", "通知".encode(), "not a usable name"),
    ],
)
def test_a_file_that_is_not_a_usable_notice_is_refused_and_changes_nothing(
    admin_server: tuple[LiveServer, Path, str], name: str, content: bytes, reason: str
) -> None:
    server, corpus, _ = admin_server
    before = sorted(p.relative_to(corpus) for p in corpus.rglob("*") if p.is_file())
    refused = upload(server.url, name, content)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "not_a_notice"
    assert reason in refused.json()["error"]["message"]
    assert sorted(p.relative_to(corpus) for p in corpus.rglob("*") if p.is_file()) == before  # nothing staged is left
    assert [n["doc_id"] for n in library(server.url)["notices"]] == [DOC_ID]


def test_sync_indexes_every_usable_file_and_names_the_others(admin_server: tuple[LiveServer, Path, str]) -> None:
    server, corpus, _ = admin_server
    (corpus / "2020").mkdir()
    shutil.copy(EXPORT, corpus / "2020")
    (corpus / "2020" / "truncated.txt").write_bytes(b"")
    (corpus / "minutes.wps").write_bytes(b"WPS")

    synced = httpx.post(f"{server.url}/v1/admin/sync", headers=ADMIN, timeout=120).json()
    assert (synced["action"], synced["notices"]) == ("built", 2)
    rejected = {(r["file"], r["reason"]) for r in synced["rejected"]}
    assert rejected == {
        ("2020/truncated.txt", "is empty"),
        ("minutes.wps", "is not in a format policyqa reads: save it as .txt, .html, .htm, .docx, .pdf"),
    }
    assert top_doc(server.url, "出口退税容缺办理") == "2020/export-tax-rebate-service"
    assert {(r["file"], r["reason"]) for r in httpx.get(f"{server.url}/readyz").json()["rejected"]} == rejected
    statuses = {n["doc_id"]: n["status"] for n in library(server.url)["notices"]}
    assert statuses == {DOC_ID: "indexed", "2020/export-tax-rebate-service": "indexed", "2020/truncated": "not indexed"}


def test_the_admin_key_and_only_it_opens_the_admin_api(admin_server: tuple[LiveServer, Path, str]) -> None:
    server, _, _ = admin_server
    for headers in ({}, PUBLIC, {"X-Admin-Key": PUBLIC_KEY}, {"X-Admin-Key": ADMIN_KEY + "x"}):
        refused = httpx.get(f"{server.url}/v1/admin/notices", headers=headers)
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "unauthorized")
        assert "X-Admin-Key" in refused.json()["error"]["message"]
    assert httpx.post(f"{server.url}/v1/search", json={"query": "外币"}, headers=ADMIN).status_code == 401
    json_body = httpx.post(f"{server.url}/v1/admin/notices", json={"file": "x"}, headers=ADMIN)
    assert (json_body.status_code, json_body.json()["error"]["message"]) == (422, "file: Field required")
    form = httpx.post(f"{server.url}/v1/admin/notices", data={"file": "x"}, headers=ADMIN)
    assert (form.status_code, form.json()["error"]["code"]) == (415, "unsupported_media_type")
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/v1/admin/notices", "/v1/admin/notices/{doc_id}", "/v1/admin/sync"} <= schema["paths"].keys()


def test_the_admin_api_is_off_without_an_admin_key(server: LiveServer) -> None:
    for method, path in (("GET", "/v1/admin/notices"), ("POST", "/v1/admin/sync")):
        response = httpx.request(method, f"{server.url}{path}", headers={"X-Admin-Key": ADMIN_KEY})
        assert response.status_code == 404


def test_the_admin_key_must_be_its_own() -> None:
    with pytest.raises(ValueError, match="must differ from POLICYQA_API_KEY"):
        Settings(admin_key=ADMIN_KEY, api_key=ADMIN_KEY)


def test_the_last_notice_of_a_local_index_is_not_removed(admin_server: tuple[LiveServer, Path, str]) -> None:
    server, corpus, store = admin_server
    if store == "postgres":
        pytest.skip("a database may be emptied")
    refused = httpx.delete(f"{server.url}/v1/admin/notices/{DOC_ID}", headers=ADMIN)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
    assert (corpus / f"{DOC_ID}.txt").exists()
    assert top_doc(server.url, "汽车平行进口") == DOC_ID
