"""Build an index from a corpus, or reuse the stored one when corpus and embedder are unchanged."""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from corpus.loader import Corpus, corpus_fingerprint, load_corpus
from corpus.reader import NoticeFileError
from index.bm25 import BM25Index
from index.clauses import WINDOW_CHARS, embed_clauses, lexical_text
from index.dense import DenseIndex
from index.embedders import Embedder
from index.embedding_cache import CachedEmbedder
from index.errors import IndexBuildError, IndexCorruptError, IndexMismatchError
from index.local import LocalIndex
from index.sentence_vectors import SentenceVectors
from index.store import FORMAT_VERSION, IndexStore
from index.tokenizer import Tokenizer, corpus_words

log = logging.getLogger("policyqa.index")


@dataclass
class IndexReport:
    """What loading an index did: ``loaded`` the stored one, ``built`` a new one, or ``kept`` the stored
    one because the corpus had bad files (listed in ``errors``)."""

    action: str
    seconds: float
    location: str  # the index directory, or the database
    errors: list[NoticeFileError] = field(default_factory=list)


def build_index(
    corpus: Corpus,
    embedder: Embedder,
    fingerprint: str,
    progress: bool = True,
    passage_embedder: Embedder | None = None,
) -> LocalIndex:
    """Tokenize and embed every passage of ``corpus`` into a new in-memory index.

    ``passage_embedder`` (by default ``embedder``) embeds the passages and sentences, e.g. through a cache.
    """
    passage_embedder = passage_embedder or embedder
    passages = corpus.passages
    tokenizer = Tokenizer(corpus_words(passages))
    bm25 = BM25Index([tokenizer.tokenize(lexical_text(passage)) for passage in passages])
    vectors = embed_clauses(passage_embedder, passages, progress)
    manifest = {
        "format_version": FORMAT_VERSION,
        "corpus_fingerprint": fingerprint,
        "embedder": {"id": embedder.id, "dim": embedder.dim},
        "documents": [notice.document.doc_id for notice in corpus.notices],
        "passage_count": len(passages),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "python": platform.python_version(),
            **{package: version(package) for package in ("policyqa", "faiss-cpu", "scipy", "jieba", "numpy")},
        },
    }
    return LocalIndex(
        documents=[notice.document for notice in corpus.notices],
        passages=passages,
        tokenizer=tokenizer,
        bm25=bm25,
        dense=DenseIndex.from_vectors(vectors.passages),
        sentences=SentenceVectors(vectors.window_vectors, vectors.window_owner, len(passages)),
        embedder=embedder,
        manifest=manifest,
    )


def ensure_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    force: bool = False,
    progress: bool = True,
    build: bool = True,
) -> tuple[LocalIndex, IndexReport]:
    """Load the stored index if it was built from this corpus with this embedder; else rebuild it.

    A corpus with a bad file is not indexed: the stored index (if it suits ``embedder``)
    stays served and the report lists the errors; with no such index, IndexBuildError.
    With ``build`` false nothing is built: an index made elsewhere (say on a GPU machine)
    is served as it is, and one made by another embedder, a damaged one, or none, is refused.
    With ``build`` true a damaged index is rebuilt.
    Passage vectors are kept under ``index_dir/embeddings``, so a rebuild embeds only new text.
    """
    started = time.perf_counter()
    store = IndexStore(index_dir)
    manifest = store.manifest()
    usable = (
        manifest is not None
        and manifest.get("format_version") == FORMAT_VERSION
        and manifest["embedder"]["id"] == embedder.id
    )
    if not build:
        if not usable:
            raise IndexMismatchError(_unusable(index_dir, manifest, embedder))
        return store.load(embedder), IndexReport("loaded", time.perf_counter() - started, str(index_dir))
    # The corpus and how its clauses are cut into windows: either changing makes other vectors.
    fingerprint = f"{corpus_fingerprint(corpus_dir)}+windows={WINDOW_CHARS}"
    if usable and not force and manifest is not None and manifest["corpus_fingerprint"] == fingerprint:
        if (stored := _load_sound(store, embedder)) is not None:
            return stored, IndexReport("loaded", time.perf_counter() - started, str(index_dir))
        usable = False

    corpus = load_corpus(corpus_dir)
    if corpus.errors:
        if usable and (stored := _load_sound(store, embedder)) is not None:
            return stored, IndexReport("kept", time.perf_counter() - started, str(index_dir), corpus.errors)
        raise IndexBuildError(
            f"{corpus_dir}: not indexed, {len(corpus.errors)} file(s) are not usable notices:", corpus.errors
        )

    directory = store.new_build()  # made first, so an interrupted build is visible as a directory without a manifest
    try:
        cached = CachedEmbedder(embedder, index_dir / "embeddings")
        index = build_index(corpus, embedder, fingerprint, progress=progress, passage_embedder=cached)
    except BaseException:
        store.discard(directory)
        raise
    store.commit(index, directory)
    return index, IndexReport("built", time.perf_counter() - started, str(index_dir))


def _load_sound(store: IndexStore, embedder: Embedder) -> LocalIndex | None:
    """The stored index, or None (logged) when its files are damaged and it must be rebuilt from the corpus."""
    try:
        return store.load(embedder)
    except IndexCorruptError as exc:
        log.warning("%s: %s; rebuilding it from the corpus", store.root, exc)
        return None


def _unusable(index_dir: Path, manifest: dict[str, Any] | None, embedder: Embedder) -> str:
    if manifest is None:
        return f"{index_dir}: no index has been built here; build one with `policyqa index`"
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"{index_dir}: the index has format {manifest.get('format_version')}, not {FORMAT_VERSION}; rebuild it"
    return (
        f"{index_dir}: the index was built with embedder {manifest['embedder']['id']}, but this service embeds "
        f"questions with {embedder.id}; configure the same model, or rebuild the index with this one"
    )
