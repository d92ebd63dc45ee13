"""Persist a built index under one directory, and swap a new build in atomically.

Layout of ``root``::

    current -> builds/<build-id>      a symlink, replaced atomically by each build
    builds/<build-id>/
        manifest.json                 corpus hash, embedder id and dimension, versions, build time
        documents.jsonl, passages.jsonl
        bm25_tokens.json, user_words.txt
        dense.faiss, sentence_vectors.npy, sentence_owner.npy

A build is written into its own directory first; only a complete build is ever pointed
to by ``current``, so a crash mid-build leaves the previous index served.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from corpus.models import Document, Passage
from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.embedders import Embedder
from index.hybrid import HybridIndex
from index.sentence_vectors import SentenceVectors
from index.tokenizer import Tokenizer

FORMAT_VERSION = 4
_KEEP_BUILDS = 2


class IndexMismatchError(RuntimeError):
    """A stored index that cannot be served as it is (other embedder, other format)."""


class IndexStore:
    """The index directory: reads the current build, writes new builds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._current = root / "current"
        self._builds = root / "builds"

    def manifest(self) -> dict[str, Any] | None:
        """The manifest of the current build, or None when there is no build yet."""
        path = self._current / "manifest.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def new_build(self) -> Path:
        """A fresh, empty build directory; it becomes current only through ``commit``."""
        self._builds.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="build-", dir=self._builds))

    def commit(self, index: HybridIndex, build: Path) -> None:
        """Write ``index`` into ``build`` and make it current; on any failure, delete ``build``."""
        try:
            _write_jsonl(build / "documents.jsonl", (d.to_dict() for d in index.documents))
            _write_jsonl(build / "passages.jsonl", (p.to_dict() for p in index.passages))
            index.bm25.save(build / "bm25_tokens.json")
            (build / "user_words.txt").write_text("\n".join(index.tokenizer.user_words), encoding="utf-8")
            index.dense.save(build / "dense.faiss")
            index.sentences.save(build)
            # The manifest goes last: a build without one is incomplete and never made current.
            _write_json(build / "manifest.json", index.manifest)
            link = self.root / f".current-{build.name}"
            link.symlink_to(build.relative_to(self.root))
            os.replace(link, self._current)
        except BaseException:
            self.discard(build)
            raise
        self._prune(keep=build)

    def discard(self, build: Path) -> None:
        """Delete a build that will not be committed."""
        shutil.rmtree(build, ignore_errors=True)

    def load(self, embedder: Embedder) -> HybridIndex:
        """Load the current build for searching with ``embedder``; refuse one built by another embedder."""
        manifest = self.manifest()
        if manifest is None:
            raise FileNotFoundError(f"{self.root}: no index has been built here yet")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{self.root}: index format {manifest.get('format_version')} is not {FORMAT_VERSION}"
            )
        built_with = manifest["embedder"]["id"]
        if built_with != embedder.id:
            raise IndexMismatchError(f"{self.root}: index was built with embedder {built_with}, not {embedder.id}")
        build = self._current.resolve()
        user_words = (build / "user_words.txt").read_text(encoding="utf-8").splitlines()
        passages = [Passage.from_dict(p) for p in _read_jsonl(build / "passages.jsonl")]
        return HybridIndex(
            documents=[Document.from_dict(d) for d in _read_jsonl(build / "documents.jsonl")],
            passages=passages,
            tokenizer=Tokenizer(user_words),
            bm25=BM25Index.load(build / "bm25_tokens.json"),
            dense=DenseIndex.load(build / "dense.faiss"),
            sentences=SentenceVectors.load(build, len(passages)),
            embedder=embedder,
            manifest=manifest,
        )

    def _prune(self, keep: Path) -> None:
        """Delete old builds, keeping the newest few (a reader may still be loading the previous one)."""
        builds = sorted(
            (p for p in self._builds.iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime
        )
        for old in builds[: max(len(builds) - (_KEEP_BUILDS - 1), 0)]:
            shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as rows:
        return [json.loads(line) for line in rows if line.strip()]
