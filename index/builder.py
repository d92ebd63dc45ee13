"""Build an in-memory index of a corpus: tokenize, embed and record what it holds."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib.metadata import version

from corpus.loader import Corpus
from index.bm25 import BM25Index
from index.clauses import embed_clauses, indexed_fingerprint, lexical_text
from index.dense import DenseIndex
from index.embedders import Embedder
from index.local import LocalIndex
from index.sentence_vectors import SentenceVectors
from index.store import FORMAT_VERSION
from index.tokenizer import Tokenizer, corpus_words


def build_index(
    corpus: Corpus,
    embedder: Embedder,
    progress: bool = True,
    passage_embedder: Embedder | None = None,
    fingerprints: dict[str, str | None] | None = None,
) -> LocalIndex:
    """Tokenize and embed every passage of ``corpus`` into a new in-memory index.

    ``passage_embedder`` (by default ``embedder``) embeds the passages and sentences, e.g. through a cache.
    The manifest records each notice's ``fingerprints`` (by default, what ``indexed_fingerprint`` makes
    of the notice's own).
    """
    passage_embedder = passage_embedder or embedder
    if fingerprints is None:
        fingerprints = {n.document.doc_id: indexed_fingerprint(n.fingerprint) for n in corpus.notices}
    passages = corpus.passages
    tokenizer = Tokenizer(corpus_words(passages))
    bm25 = BM25Index([tokenizer.tokenize(lexical_text(passage)) for passage in passages])
    vectors = embed_clauses(passage_embedder, passages, progress)
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedder": {"id": embedder.id, "dim": embedder.dim},
        "notices": {notice.document.doc_id: fingerprints[notice.document.doc_id] for notice in corpus.notices},
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
