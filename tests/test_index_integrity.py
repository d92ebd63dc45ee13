"""A damaged index is refused by name or rebuilt, never served; a damaged cache batch is re-embedded;
what killed builds leave behind is cleaned up by the next one."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from corpus import DEFAULT_CORPUS_DIR
from index import DirectoryIndex, IndexCorruptError, IndexMismatchError, IndexStore
from index.embedders import Embedder
from index.embedding_cache import CachedEmbedder
from index.integrity import file_records
from index.store import FORMAT_VERSION
from service.settings import Settings
from tests.cache_writer import HashEmbedder
from tests.commands import POLICYQA
from tests.conftest import FIXTURES, LiveServer, open_local, search
from tests.test_index_store import CountingEmbedder, OtherModel, current_build, distinct_texts

# Each test here builds, rebuilds or damages an index on disk.
pytestmark = pytest.mark.slow

QUESTION = "融资租赁公司能收外币租金吗"


@pytest.fixture
def index_copy(default_index_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the default index, its embedding cache included (so rebuilding it is quick)."""
    copy = tmp_path / "index"
    shutil.copytree(default_index_dir, copy, symlinks=True)
    return copy


def drop_line(path: Path, line: int = 10) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:line] + lines[line + 1 :]), encoding="utf-8")


def edit_text(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace("融资租赁", "经营租赁"), encoding="utf-8")


def flip_bytes(path: Path, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + count] = bytes(b ^ 0xFF for b in data[middle : middle + count])
    path.write_bytes(bytes(data))


def drop_token_row(path: Path) -> None:
    rows = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(rows[:5] + rows[6:], ensure_ascii=False), encoding="utf-8")


def truncate_to_700_bytes(path: Path) -> None:
    """What ``truncate -s 700`` does to a file (a copy or a disk write cut short)."""
    with path.open("r+b") as data:
        data.truncate(700)


def edit_manifest(path: Path, edit: Callable[[dict], object]) -> None:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def drop_embedder(manifest: Path) -> None:
    edit_manifest(manifest, lambda m: m.pop("embedder"))


def unlist_dense_and_flip_it(manifest: Path) -> None:
    """The manifest stops vouching for the vectors, which are then damaged."""
    edit_manifest(manifest, lambda m: m["files"].pop("dense.faiss"))
    flip_bytes(manifest.with_name("dense.faiss"), count=4)


def reseal(build: Path) -> None:
    """Record the manifest's checksum again, as an operator 'repairing' an edited manifest would."""
    with (build / "manifest.sha256").open("w") as seal:
        subprocess.run(["sha256sum", "manifest.json"], cwd=build, stdout=seal, check=True)


DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "a line dropped from the passages": ("passages.jsonl", drop_line),
    "a passage's text edited": ("passages.jsonl", edit_text),
    "64 bytes flipped in the vectors": ("dense.faiss", flip_bytes),
    "a row dropped from the BM25 terms": ("bm25_tokens.json", drop_token_row),
    "a file deleted": ("sentence_owner.npy", Path.unlink),
    "the manifest truncated to 700 bytes": ("manifest.json", truncate_to_700_bytes),
    "the manifest without its embedder": ("manifest.json", drop_embedder),
    "the vectors left out of the manifest and flipped": ("manifest.json", unlist_dense_and_flip_it),
    "the manifest deleted": ("manifest.json", Path.unlink),
    "the manifest's checksum deleted": ("manifest.sha256", Path.unlink),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_index_is_refused_by_name_or_rebuilt(damage: str, index_copy: Path, embedder: Embedder) -> None:
    name, spoil = DAMAGE[damage]
    spoil(current_build(index_copy) / name)
    with pytest.raises(IndexCorruptError, match=f"index file {name} is"):
        open_local(DEFAULT_CORPUS_DIR, index_copy, embedder, build=False)

    index, report = open_local(DEFAULT_CORPUS_DIR, index_copy, embedder)
    assert report.action == "built"
    assert search(index, QUESTION).hits[0].passage.passage_id.endswith(":3.3.17")
    reloaded, again = open_local(DEFAULT_CORPUS_DIR, index_copy, embedder, build=False)
    assert again.action == "loaded"
    assert len(reloaded.snapshot.passages) == len(index.snapshot.passages)


def test_files_that_match_their_checksums_must_still_agree_on_counts(index_copy: Path, embedder: Embedder) -> None:
    """An operator who 'repairs' a file and its checksums by hand is still caught by the counts."""
    build = current_build(index_copy)
    drop_line(build / "passages.jsonl")
    edit_manifest(build / "manifest.json", lambda m: m["files"].update(file_records(build, ["passages.jsonl"])))
    reseal(build)
    with pytest.raises(IndexCorruptError, match=r"disagree on the number of passages \(manifest 77, passages 76"):
        IndexStore(index_copy).load(embedder)


def test_a_file_a_resealed_manifest_leaves_out_is_still_verified(index_copy: Path, embedder: Embedder) -> None:
    """Which files a build has follows from its format: a manifest that stops listing one, even with its own
    checksum redone, does not stop that file being checked."""
    build = current_build(index_copy)
    unlist_dense_and_flip_it(build / "manifest.json")
    reseal(build)
    with pytest.raises(IndexCorruptError, match=r"index file dense\.faiss is not recorded in the manifest"):
        open_local(DEFAULT_CORPUS_DIR, index_copy, embedder, build=False)

    index, report = open_local(DEFAULT_CORPUS_DIR, index_copy, embedder)
    assert report.action == "built"
    assert search(index, QUESTION).hits[0].passage.article == "17"


def test_an_index_of_the_format_before_sealed_manifests_is_rebuilt_not_misread(
    index_copy: Path, embedder: Embedder
) -> None:
    build = current_build(index_copy)
    edit_manifest(build / "manifest.json", lambda m: m.update(format_version=5))
    (build / "manifest.sha256").unlink(missing_ok=True)  # format 5 wrote none
    with pytest.raises(IndexMismatchError, match=rf"the index has format 5, not {FORMAT_VERSION}; rebuild it"):
        open_local(DEFAULT_CORPUS_DIR, index_copy, embedder, build=False)

    index, report = open_local(DEFAULT_CORPUS_DIR, index_copy, embedder)
    assert report.action == "built"
    assert IndexStore(index_copy).manifest()["format_version"] == FORMAT_VERSION
    assert search(index, QUESTION).hits[0].passage.article == "17"


def test_the_cli_names_a_damaged_index_and_rebuilds_it_when_allowed(index_copy: Path) -> None:
    flip_bytes(current_build(index_copy) / "dense.faiss")
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(index_copy), "POLICYQA_AUTO_BUILD": "false"}
    refused = subprocess.run([*POLICYQA, "search", QUESTION], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1
    assert "index file dense.faiss is not what the build wrote" in refused.stderr
    assert "Traceback" not in refused.stderr

    env["POLICYQA_AUTO_BUILD"] = "true"
    rebuilt = subprocess.run([*POLICYQA, "search", QUESTION], env=env, capture_output=True, text=True, timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "第17条" in rebuilt.stdout.splitlines()[0]


@pytest.mark.parametrize("damage", [truncate_to_700_bytes, drop_embedder], ids=["truncated", "without embedder"])
def test_index_force_rebuilds_an_index_whose_manifest_is_damaged(
    damage: Callable[[Path], None], index_copy: Path, embedder: Embedder
) -> None:
    damage(current_build(index_copy) / "manifest.json")
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(index_copy)}
    rebuilt = subprocess.run([*POLICYQA, "index", "--force"], env=env, capture_output=True, text=True, timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "built index: 1 notice(s), 77 passages" in rebuilt.stderr
    assert "Traceback" not in rebuilt.stderr
    assert search(DirectoryIndex.open(index_copy, embedder), QUESTION).hits[0].passage.article == "17"


def test_the_service_names_a_damaged_manifest_or_rebuilds_the_index(index_copy: Path) -> None:
    truncate_to_700_bytes(current_build(index_copy) / "manifest.json")
    refused = LiveServer(Settings(index_dir=index_copy, auto_build=False, rate_limit=None)).start(wait_ready=False)
    try:
        ready = refused.readiness()
        assert ready.status_code == 503
        assert "index file manifest.json is not what the build wrote" in ready.json()["error"]["message"]
    finally:
        refused.stop()

    live = LiveServer(Settings(index_dir=index_copy, auto_build=True, rate_limit=None)).start(timeout=300)
    try:
        answer = httpx.post(f"{live.url}/v1/search", json={"query": QUESTION}).json()
        assert answer["results"][0]["article"] == "17"
    finally:
        live.stop()


def test_the_service_is_not_ready_on_a_damaged_index_until_a_good_one_is_built(
    index_copy: Path, embedder: Embedder
) -> None:
    drop_line(current_build(index_copy) / "passages.jsonl")
    settings = Settings(index_dir=index_copy, auto_build=False, reload_interval=0.2, rate_limit=None)
    live = LiveServer(settings).start(wait_ready=False)
    try:
        ready = live.readiness()
        assert ready.status_code == 503
        assert "index file passages.jsonl is not what the build wrote" in ready.json()["error"]["message"]
        searched = httpx.post(f"{live.url}/v1/search", json={"query": QUESTION})
        assert searched.status_code == 503
        assert searched.json()["error"]["code"] == "not_ready"

        open_local(DEFAULT_CORPUS_DIR, index_copy, embedder)  # `policyqa index`, elsewhere
        wait_for(lambda: httpx.get(f"{live.url}/readyz").status_code == 200)
        answer = httpx.post(f"{live.url}/v1/search", json={"query": QUESTION}).json()
        assert answer["results"][0]["article"] == "17"
    finally:
        live.stop()


def test_a_damaged_cache_batch_is_named_deleted_and_embedded_again(
    index_copy: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    batch = sorted(index_copy.glob("embeddings/*/*.npz"))[0]
    with np.load(batch) as data:
        keys = len(data["keys"])
    batch.write_bytes(batch.read_bytes()[:100])
    counting = CountingEmbedder(embedder)
    with caplog.at_level(logging.WARNING, logger="policyqa.index"):
        index, report = open_local(DEFAULT_CORPUS_DIR, index_copy, counting, force=True)
    assert report.action == "built"
    assert f"embedding cache batch {batch} is damaged" in caplog.text
    assert counting.passages_embedded == keys
    assert search(index, QUESTION).hits[0].passage.article == "17"


def rewrite_batch(batch: Path, edit: Callable[[dict[str, np.ndarray]], object]) -> None:
    """Write ``batch`` again as a well-formed batch (a sound zip, as many vectors as keys), edited."""
    with np.load(batch) as data:
        fields = dict(data)
    edit(fields)
    np.savez(batch, **fields)


def nudge_one_value(fields: dict[str, np.ndarray]) -> None:
    fields["vectors"][0, 0] += 1e-3


CACHE_DAMAGE: dict[str, Callable[[dict[str, np.ndarray]], object]] = {
    "its vectors in reverse order": lambda fields: fields.update(vectors=fields["vectors"][::-1]),
    "each vector's values rotated": lambda fields: fields.update(vectors=np.roll(fields["vectors"], 1, axis=1)),
    "one value nudged": nudge_one_value,
    "written before batches had checksums": lambda fields: fields.pop("checksum", None),
}


@pytest.mark.parametrize("damage", CACHE_DAMAGE, ids=list(CACHE_DAMAGE))
def test_a_cache_batch_failing_its_checksum_is_named_and_embedded_again(
    damage: str,
    index_copy: Path,
    embedder: Embedder,
    default_index: DirectoryIndex,
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch = sorted(index_copy.glob("embeddings/*/*.npz"))[0]
    rewrite_batch(batch, CACHE_DAMAGE[damage])
    with np.load(batch) as data:
        keys = len(data["keys"])
    counting = CountingEmbedder(embedder)
    with caplog.at_level(logging.WARNING, logger="policyqa.index"):
        index, report = open_local(DEFAULT_CORPUS_DIR, index_copy, counting, force=True)
    assert report.action == "built"
    assert f"embedding cache batch {batch} is damaged" in caplog.text
    assert counting.passages_embedded == keys
    rebuilt, clean = index.snapshot.sentences.vectors, default_index.snapshot.sentences.vectors
    assert np.allclose(rebuilt, clean, atol=1e-4)


def test_cache_batches_are_used_only_by_the_embedder_that_made_them(
    default_index_dir: Path, tmp_path: Path, embedder: Embedder
) -> None:
    """A batch copied into another model's cache directory is not taken for that model's vectors."""
    other = OtherModel(embedder)
    index_dir = tmp_path / "index"
    shutil.copytree(
        next(default_index_dir.glob("embeddings/*")), CachedEmbedder(other, index_dir / "embeddings").directory
    )
    index, report = open_local(DEFAULT_CORPUS_DIR, index_dir, other)
    assert report.action == "built"
    assert other.passages_embedded == len(distinct_texts(index.snapshot.passages))


def test_index_deletes_the_half_batch_a_killed_build_left_however_recent(index_copy: Path) -> None:
    """What `policyqa index` killed while writing a batch leaves goes with the next run, not an hour later."""
    temporary = next(index_copy.glob("embeddings/*")) / "tmpkilled.tmp"
    temporary.write_bytes(b"half a batch")
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(index_copy)}
    done = subprocess.run([*POLICYQA, "index", "--force"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not temporary.exists()


def test_clean_up_never_deletes_a_batch_another_process_is_writing(tmp_path: Path) -> None:
    """A build cleans up while another process (an ingest, a training run) writes batches into the same cache."""
    root = tmp_path / "embeddings"
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.cache_writer", str(root), "4"], stdout=subprocess.PIPE, text=True
    )
    cache = CachedEmbedder(HashEmbedder(), root)
    cleanups = 0
    while writer.poll() is None:
        cache.embed_passages(["the cleaner's own text"])  # each call first deletes what killed writers left
        cleanups += 1
    written = int(writer.stdout.read())
    assert writer.returncode == 0
    assert cleanups > 100
    keys = 0
    for batch in cache.directory.glob("*.npz"):
        with np.load(batch) as data:
            keys += len(data["keys"])
    assert keys == written + 1
    assert not list(cache.directory.glob("*.tmp"))


def test_the_next_build_removes_what_killed_builds_left(index_copy: Path, embedder: Embedder) -> None:
    builds = index_copy / "builds"
    previous = current_build(index_copy)
    empty = builds / "build-killed-at-once"
    empty.mkdir()
    partial = builds / "build-killed-midway"
    partial.mkdir()
    (partial / ".lock").touch()
    shutil.copy(previous / "passages.jsonl", partial)
    dangling = index_copy / ".current-build-killed-midway"
    dangling.symlink_to("builds/build-killed-midway")
    temporary = next(index_copy.glob("embeddings/*")) / "tmpkilled.tmp"
    temporary.write_bytes(b"half a batch")
    running = builds / "build-still-running"  # another process's build in progress: left alone
    running.mkdir()
    with (running / ".lock").open("wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _, report = open_local(DEFAULT_CORPUS_DIR, index_copy, embedder, force=True)

    assert report.action == "built"
    left = {path.name for path in builds.iterdir()}
    assert left == {previous.name, current_build(index_copy).name, running.name}
    assert not dangling.is_symlink()
    assert not temporary.exists()


def notice_count(server: LiveServer) -> int:
    return len(httpx.get(f"{server.url}/v1/documents").json()["documents"])


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_running_service_switches_to_a_newer_build_and_keeps_serving_if_it_is_damaged(
    index_copy: Path, corpus_copy: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(index_dir=index_copy, corpus_dir=corpus_copy, reload_interval=0.2, rate_limit=None)
    live = LiveServer(settings).start()
    try:
        assert notice_count(live) == 1
        shutil.copy(FIXTURES / "export-tax-rebate-service.txt", corpus_copy)
        open_local(corpus_copy, index_copy, embedder)  # as `policyqa index` would, elsewhere
        wait_for(lambda: notice_count(live) == 2)

        good = current_build(index_copy)
        damaged = good.with_name("build-damaged")
        shutil.copytree(good, damaged)
        drop_line(damaged / "passages.jsonl")
        link = index_copy / ".current-swap"
        link.symlink_to(damaged.relative_to(index_copy))
        with caplog.at_level(logging.ERROR, logger="policyqa.service"):
            os.replace(link, index_copy / "current")
            wait_for(lambda: "build-damaged not loaded" in caplog.text)
        assert "index file passages.jsonl is not what the build wrote" in caplog.text
        assert httpx.get(f"{live.url}/readyz").status_code == 200
        assert notice_count(live) == 2
        answer = httpx.post(f"{live.url}/v1/search", json={"query": QUESTION}).json()
        assert answer["results"][0]["article"] == "17"
    finally:
        live.stop()
