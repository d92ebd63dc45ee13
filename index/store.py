"""Persist a built index under one directory, and swap a new build in atomically.

Layout of ``root``::

    current -> builds/<build-id>      a symlink, replaced atomically by each build
    builds/<build-id>/
        documents.jsonl, passages.jsonl
        bm25_tokens.json, user_words.txt
        dense.faiss, sentence_vectors.npy, sentence_owner.npy
        manifest.json                 corpus hash, embedder id and dimension, versions, build time,
                                      and each file's size and SHA-256 (index/integrity.py)
        manifest.sha256               the manifest's own SHA-256, written last

Which files a build has follows from its format (``_DATA_FILES``), not from its manifest, so a load checks
every one of them. A build is written into its own directory first; only a complete build is ever pointed
to by ``current``, so a crash mid-build leaves the previous index served. A build in progress
holds a lock on its ``.lock`` file; the next build deletes any build whose lock is free and that
is not complete (one that was killed), along with older complete builds.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from corpus.models import Document, Passage
from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.embedders import Embedder
from index.errors import IndexCorruptError, IndexMismatchError
from index.integrity import file_records, read_sealed, seal, seal_path, verify_counts, verify_files
from index.local import LocalIndex
from index.sentence_vectors import SentenceVectors
from index.tokenizer import Tokenizer

# 6: the manifest is sealed (manifest.sha256), and every file of _DATA_FILES is checked whatever it lists.
# 7: every passage carries its notice's identity (issuer, date, 文号, region, kind, validity).
FORMAT_VERSION = 7
_KEEP_BUILDS = 2
_DATA_FILES = (
    "documents.jsonl",
    "passages.jsonl",
    "bm25_tokens.json",
    "user_words.txt",
    "dense.faiss",
    *SentenceVectors.FILES,
)
_MANIFEST = "manifest.json"


class IndexStore:
    """The index directory: reads the current build, writes new builds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._current = root / "current"
        self._builds = root / "builds"
        self._locks: dict[Path, IO[bytes]] = {}

    def manifest(self) -> dict[str, Any] | None:
        """The manifest of the current build, or None when there is no build yet (IndexMismatchError or
        IndexCorruptError as ``load`` raises them)."""
        build = self.current_build()
        return None if build is None else self._read_manifest(self._builds / build)

    def current_build(self) -> str | None:
        """The name of the build ``current`` points to, or None when there is none: a service compares it
        with the one it loaded to see that a newer build has been swapped in."""
        try:
            return Path(os.readlink(self._current)).name
        except OSError:
            return None

    def new_build(self) -> Path:
        """A fresh, empty build directory, locked as in progress; it becomes current only through ``commit``."""
        self._builds.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix="build-", dir=self._builds))
        lock = (build / ".lock").open("wb")
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel if this process dies
        self._locks[build] = lock
        return build

    def commit(self, index: LocalIndex, build: Path) -> None:
        """Write ``index`` into ``build`` and make it current; on any failure, delete ``build``."""
        try:
            _write_jsonl(build / "documents.jsonl", (d.to_dict() for d in index.documents))
            _write_jsonl(build / "passages.jsonl", (p.to_dict() for p in index.passages))
            index.bm25.save(build / "bm25_tokens.json")
            (build / "user_words.txt").write_text("\n".join(index.tokenizer.user_words), encoding="utf-8")
            index.dense.save(build / "dense.faiss")
            index.sentences.save(build)
            # The manifest and its seal go last: a build without them is incomplete and never made current.
            _write_json(build / _MANIFEST, {**index.manifest, "files": file_records(build, _DATA_FILES)})
            seal(build / _MANIFEST)
            link = self.root / f".current-{build.name}"
            link.symlink_to(build.relative_to(self.root))
            os.replace(link, self._current)
            index.build = build.name
            (build / ".lock").unlink()  # current now; the lock kept its link from another build's clean-up
        except BaseException:
            self.discard(build)
            raise
        self._unlock(build)
        self._prune(keep=build)

    def discard(self, build: Path) -> None:
        """Delete a build that will not be committed."""
        self._unlock(build)
        shutil.rmtree(build, ignore_errors=True)

    def load(self, embedder: Embedder) -> LocalIndex:
        """Load the current build for searching with ``embedder``; refuse one built by another embedder,
        or one whose files or manifest are not what its build wrote (IndexCorruptError, naming the file)."""
        name = self.current_build()  # once: a build swapped in meanwhile is not mixed with this one
        if name is None:
            raise IndexMismatchError(f"{self.root}: no index has been built here; build one with `policyqa index`")
        build = self._builds / name
        manifest = self._read_manifest(build)
        try:
            built_with = manifest["embedder"]["id"]
            if built_with != embedder.id:
                raise IndexMismatchError(
                    f"{self.root}: the index was built with embedder {built_with}, but this service embeds questions "
                    f"with {embedder.id}; configure the same model, or rebuild the index with this one"
                )
            verify_files(build, _DATA_FILES, manifest["files"])
            return _read_build(build, embedder, manifest)
        except IndexMismatchError:
            raise
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:  # as the build wrote them, yet unreadable
            raise IndexCorruptError(f"index files cannot be read ({exc}); rebuild the index") from exc

    def _read_manifest(self, build: Path) -> dict[str, Any]:
        """The manifest of ``build`` as the build wrote it: IndexCorruptError if it or its seal is missing or
        differs, IndexMismatchError if another format wrote it."""
        path = build / _MANIFEST
        try:
            manifest = _json_object(read_sealed(path))
        except IndexCorruptError:
            # Formats before 6 sealed no manifest: one that says it is another format's is refused as that.
            manifest = _json_object(path.read_bytes()) if path.is_file() else {}
            if manifest.get("format_version", FORMAT_VERSION) == FORMAT_VERSION:
                raise
        if (version := manifest.get("format_version")) != FORMAT_VERSION:
            raise IndexMismatchError(f"{self.root}: the index has format {version}, not {FORMAT_VERSION}; rebuild it")
        return manifest

    def _unlock(self, build: Path) -> None:
        lock = self._locks.pop(build, None)
        if lock is not None:
            lock.close()

    def _prune(self, keep: Path) -> None:
        """Delete what earlier builds left: killed builds (no manifest, lock free), their dangling links, and
        complete builds beyond the newest few (a reader may still be loading the previous one)."""
        complete, abandoned = [], []
        for build in self._builds.iterdir():
            if not build.is_dir() or build == keep:
                continue
            if seal_path(build / _MANIFEST).is_file():
                complete.append(build)
            elif not _in_progress(build):
                abandoned.append(build)
        complete.sort(key=lambda p: p.stat().st_mtime)
        for old in abandoned + complete[: max(len(complete) - (_KEEP_BUILDS - 1), 0)]:
            shutil.rmtree(old, ignore_errors=True)
        for link in self.root.glob(".current-*"):
            if link.is_symlink() and not _in_progress(self._builds / link.name.removeprefix(".current-")):
                link.unlink(missing_ok=True)


def _read_build(build: Path, embedder: Embedder, manifest: dict[str, Any]) -> LocalIndex:
    """The index in ``build``, once its files agree on how many passages there are."""
    passages = [Passage.from_dict(p) for p in _read_jsonl(build / "passages.jsonl")]
    bm25 = BM25Index.load(build / "bm25_tokens.json")
    dense = DenseIndex.load(build / "dense.faiss")
    verify_counts(
        {
            "manifest": manifest["passage_count"],
            "passages": len(passages),
            "BM25 token rows": len(bm25.corpus_tokens),
            "passage vectors": len(dense),
        }
    )
    return LocalIndex(
        documents=[Document.from_dict(d) for d in _read_jsonl(build / "documents.jsonl")],
        passages=passages,
        tokenizer=Tokenizer((build / "user_words.txt").read_text(encoding="utf-8").splitlines()),
        bm25=bm25,
        dense=dense,
        sentences=SentenceVectors.load(build, len(passages)),
        embedder=embedder,
        manifest=manifest,
        build=build.name,
    )


def _json_object(data: bytes) -> dict[str, Any]:
    """``data`` as a JSON object; empty if it is not one."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _in_progress(build: Path) -> bool:
    """Whether a live build process holds ``build``'s lock."""
    try:
        with (build / ".lock").open("rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False  # a build killed before it made its lock, or gone already
    except BlockingIOError:
        return True
    return False


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as rows:
        return [json.loads(line) for line in rows if line.strip()]
