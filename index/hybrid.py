"""The searchable index: BM25 and dense legs over the same passages, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from corpus.models import Document, Passage
from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.embedders import Embedder
from index.fusion import rrf
from index.highlight import best_sentence, sentence_terms
from index.tokenizer import Tokenizer, normalize

MODES = ("hybrid", "bm25", "dense")
# How deep each leg ranks before fusion; deeper than any top_k a caller may ask for.
CANDIDATES = 100
QUERY_CACHE_SIZE = 4096
SENTENCE_CACHE_SIZE = 8192


class Hit(NamedTuple):
    """One ranked passage: its score in the chosen mode and each leg's part in it."""

    rank: int
    passage: Passage
    score: float
    scores: dict[str, float]


@dataclass
class HybridIndex:
    """Passages of one or more notices, searchable by BM25, by dense vectors, or by both fused (RRF)."""

    documents: list[Document]
    passages: list[Passage]
    tokenizer: Tokenizer
    bm25: BM25Index
    dense: DenseIndex
    embedder: Embedder
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {passage.passage_id: passage for passage in self.passages}
        # Portals see the same questions again and again: keep their embeddings.
        self.query_vector = lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)
        # Cutting a passage into sentences and terms costs a millisecond; answers reuse the same passages.
        self._sentence_terms = lru_cache(maxsize=SENTENCE_CACHE_SIZE)(
            lambda passage_id: sentence_terms(self._by_id[passage_id].body, self.tokenizer.tokenize)
        )

    def _embed_query(self, normalized_query: str) -> np.ndarray:
        vector = self.embedder.embed_queries([normalized_query])[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        return vector

    def get_passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    def highlight(self, passage: Passage, query: str) -> str:
        """The sentence of ``passage`` that best answers ``query``."""
        candidates = self._sentence_terms(passage.passage_id)
        if not candidates:
            return passage.body
        return best_sentence(candidates, set(self.tokenizer.tokenize(query)), self.bm25.idf)

    def search(
        self, query: str, top_k: int = 5, mode: str = "hybrid", doc_id: str | None = None, section: str | None = None
    ) -> list[Hit]:
        """The ``top_k`` passages that best answer ``query``, best first.

        ``mode`` is ``hybrid`` (BM25 and dense fused by reciprocal rank), ``bm25`` or ``dense``.
        ``doc_id`` keeps one notice's passages; ``section`` keeps passages with a section
        heading containing it (主要任务, (二)).
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        allowed = self._allowed(doc_id, section)
        runs: dict[str, dict[str, float]] = {}
        if mode in ("hybrid", "bm25"):
            runs["bm25"] = self._bm25_run(query, allowed)
        if mode in ("hybrid", "dense"):
            runs["dense"] = self._dense_run(query, allowed)
        if mode == "hybrid":
            scored = {key: (sum(parts.values()), parts) for key, parts in rrf(runs).items()}
        else:
            scored = {key: (score, {mode: score}) for key, score in runs[mode].items()}
        order = sorted(scored, key=lambda key: -scored[key][0])[:top_k]
        return [
            Hit(rank, self._by_id[key], float(scored[key][0]), scored[key][1])
            for rank, key in enumerate(order, start=1)
        ]

    def _allowed(self, doc_id: str | None, section: str | None) -> np.ndarray | None:
        if doc_id is None and section is None:
            return None
        return np.array(
            [
                (doc_id is None or p.doc_id == doc_id)
                and (section is None or any(section in heading for heading in p.section_path))
                for p in self.passages
            ],
            dtype=bool,
        )

    def _bm25_run(self, query: str, allowed: np.ndarray | None) -> dict[str, float]:
        scores = self.bm25.scores(self.tokenizer.tokenize(query))
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        best = np.argsort(-scores, kind="stable")[:CANDIDATES]
        return {self.passages[i].passage_id: float(scores[i]) for i in best if scores[i] > 0}

    def _dense_run(self, query: str, allowed: np.ndarray | None) -> dict[str, float]:
        vector = self.query_vector(normalize(query))
        depth = CANDIDATES if allowed is None else len(self.dense)  # filtered: rank all, keep the allowed
        positions, similarities = self.dense.search(vector, depth)
        return {
            self.passages[i].passage_id: float(s)
            for i, s in zip(positions, similarities, strict=True)
            if allowed is None or allowed[i]
        }
