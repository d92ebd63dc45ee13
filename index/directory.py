"""The local backend: an index directory's builds (index/store.py), the current one searched in memory."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from corpus.loader import Corpus, Notice
from corpus.models import Document, Passage
from index.builder import build_index
from index.clauses import indexed_fingerprint
from index.contract import Index, notices_to_ingest
from index.embedders import Embedder
from index.embedding_cache import CachedEmbedder
from index.errors import IndexBuildError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from index.local import LocalIndex
from index.store import IndexStore

log = logging.getLogger("policyqa.index")


class DirectoryIndex(Index):
    """The notices of one index directory, searched in this process's memory as a ``LocalIndex``.

    A write builds the whole index anew (embedding only text the directory's embedding cache has not
    seen), stores it as a new build, and serves it; ``refresh`` serves a build another process stored.
    A snapshot is the build served when it was taken, so a switch never mixes two.
    """

    mirrors_corpus = True

    def __init__(self, store: IndexStore, embedder: Embedder, served: LocalIndex | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._cache = CachedEmbedder(embedder, store.root / "embeddings")
        self._served: LocalIndex | None = None
        self._seen_build = store.current_build() if served is None else served.build
        if served is not None:
            self._serve(served)

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, empty_if_unusable: bool = False) -> DirectoryIndex:
        """The directory's current build, refused (IndexMismatchError, IndexCorruptError) if there is none, it
        was made by another embedder or format, or its files are damaged; with ``empty_if_unusable``, an index
        holding nothing instead, for a write to fill."""
        store = IndexStore(index_dir)
        try:
            return cls(store, embedder, store.load(embedder))
        except IndexMismatchError as exc:
            if not empty_if_unusable:
                raise
            if isinstance(exc, IndexCorruptError):
                log.warning("%s: %s; rebuilding it from the corpus", index_dir, exc)
            return cls(store, embedder)

    @property
    def snapshot(self) -> LocalIndex:
        """The build served now (IndexUnavailableError while nothing has been built)."""
        served = self._served
        if served is None:
            raise IndexUnavailableError(f"{self.store.root}: no index has been built here yet")
        return served

    # Reads: each on the build served when it starts.

    def reading(self) -> AbstractContextManager[LocalIndex]:
        return nullcontext(self.snapshot)

    def document_counts(self) -> list[tuple[Document, int]]:
        return [] if self._served is None else self._served.document_counts()

    def fingerprints(self) -> dict[str, str | None]:
        served = self._served
        if served is None:
            return {}
        recorded = served.manifest.get("notices", {})  # absent from builds made before it was recorded
        return {document.doc_id: recorded.get(document.doc_id) for document in served.documents}

    # Writes.

    def ingest(
        self,
        notices: Corpus | Iterable[Notice],
        remove: Iterable[str] = (),
        embedder: Embedder | None = None,
        progress: bool = False,
    ) -> None:
        notices = notices_to_ingest(notices)
        if embedder is not None and embedder.id != self.embedder.id:
            raise IndexMismatchError(f"{self.store.root}: holds vectors of {self.embedder.id}, not of {embedder.id}")
        with self._writing():
            self.refresh()  # build on what another process may have stored meanwhile
            replaced = {notice.document.doc_id for notice in notices}.union(remove)
            held = self.fingerprints()
            kept = [n for n in self._notices() if n.document.doc_id not in replaced]
            if not kept and not notices:
                raise IndexBuildError(f"{self.store.root}: not written, it would hold no notice", [])
            fingerprints = {n.document.doc_id: held[n.document.doc_id] for n in kept}
            fingerprints |= {n.document.doc_id: indexed_fingerprint(n.fingerprint) for n in notices}
            build = self.store.new_build()  # first, so an interrupted build is seen as one without a manifest
            try:
                index = build_index(
                    Corpus(kept + notices),
                    self.embedder,
                    progress=progress,
                    passage_embedder=embedder or self._cache,
                    fingerprints=fingerprints,
                )
            except BaseException:
                self.store.discard(build)
                raise
            self.store.commit(index, build)
            self._seen_build = index.build
            self._serve(index)

    def refresh(self) -> bool:
        """Serve the build ``current`` points to if it is newer than the one served, once verified; a build
        that cannot be loaded is logged (once) and the one served stays."""
        name = self.store.current_build()
        if name is None or name == self._seen_build:
            return False
        self._seen_build = name
        try:
            index = self.store.load(self.embedder)
        except Exception as exc:  # whatever went wrong, the index served stays served
            log.error("newer index build %s not loaded, still serving the earlier one: %s", name, exc)
            return False
        self._seen_build = index.build
        self._serve(index)
        counts = index.document_counts()
        log.info("switched to index build %s: %d notices, %d passages", index.build, len(counts), len(index.passages))
        return True

    def _serve(self, index: LocalIndex) -> None:
        self._served = index

    def _notices(self) -> list[Notice]:
        """The notices of the build served, as they were indexed."""
        served = self._served
        if served is None:
            return []
        passages: dict[str, list[Passage]] = {document.doc_id: [] for document in served.documents}
        for passage in served.passages:
            passages[passage.doc_id].append(passage)
        return [Notice(document, passages[document.doc_id]) for document in served.documents]

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write at a time on this directory, across processes: each builds on the build before it."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        with (self.store.root / ".write.lock").open("wb") as lock:
            # Each open file has its own lock, so this also serialises threads; released when closed, or
            # by the kernel if this process dies.
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
