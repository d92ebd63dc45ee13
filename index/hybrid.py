"""The searchable index: BM25 and dense legs over the same passages, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from corpus.models import Document, Passage
from index.answerability import Evidence, Thresholds, is_answerable, term_coverage
from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.embedders import Embedder
from index.fusion import weighted
from index.highlight import best_sentence, sentence_terms
from index.tokenizer import Tokenizer, has_chinese, normalize

MODES = ("hybrid", "bm25", "dense")
# How deep each leg ranks before fusion; deeper than any top_k a caller may ask for.
CANDIDATES = 100
# Weights of the two legs in hybrid mode, and of a passage's best sentence in its dense score,
# chosen on the tuning part of the gold set (eval/results/report.md).
FUSION_WEIGHTS = {"bm25": 0.3, "dense": 0.7}
SENTENCE_WEIGHT = 0.5
QUERY_CACHE_SIZE = 4096
SENTENCE_CACHE_SIZE = 8192


class Hit(NamedTuple):
    """One ranked passage: its score in the chosen mode and each leg's part in it."""

    rank: int
    passage: Passage
    score: float
    scores: dict[str, float]


class Ranking(NamedTuple):
    """The passages that best answer a question, best first, and whether the notices answer it at all."""

    hits: list[Hit]
    evidence: Evidence
    answerable: bool


@dataclass
class HybridIndex:
    """Passages of one or more notices, searchable by BM25, by dense vectors, or by both fused (RRF)."""

    documents: list[Document]
    passages: list[Passage]
    tokenizer: Tokenizer
    bm25: BM25Index
    dense: DenseIndex
    sentences: DenseIndex
    sentence_owner: np.ndarray  # position of the passage each sentence vector belongs to
    embedder: Embedder
    manifest: dict[str, Any] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        self._by_id = {passage.passage_id: passage for passage in self.passages}
        self._position = {passage.passage_id: i for i, passage in enumerate(self.passages)}
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
    ) -> Ranking:
        """The ``top_k`` passages that best answer ``query``, best first, and whether any answers it.

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
        query_terms: list[str] = []
        if mode in ("hybrid", "bm25"):
            query_terms = self.tokenizer.tokenize(query)
            runs["bm25"] = self._bm25_run(query_terms, allowed)
        if mode in ("hybrid", "dense"):
            runs["dense"] = self._dense_run(query, allowed)
        if mode == "hybrid":
            fused = weighted(runs, FUSION_WEIGHTS, floors={"bm25": 0.0})
            scored = {key: (sum(parts.values()), parts) for key, parts in fused.items()}
        else:
            scored = {key: (score, {mode: score}) for key, score in runs[mode].items()}
        order = sorted(scored, key=lambda key: -scored[key][0])[:top_k]
        hits = [
            Hit(rank, self._by_id[key], float(scored[key][0]), scored[key][1])
            for rank, key in enumerate(order, start=1)
        ]
        evidence = self._evidence(runs, query_terms, has_chinese(query))
        return Ranking(hits, evidence, is_answerable(evidence, self.thresholds))

    def _evidence(self, runs: dict[str, dict[str, float]], query_terms: list[str], chinese: bool) -> Evidence:
        dense, lexical = runs.get("dense"), runs.get("bm25")
        coverage = None
        if lexical is not None:
            best = next(iter(lexical), None)  # runs are ordered best first
            coverage = 0.0 if best is None else term_coverage(
                query_terms, self.bm25.term_set(self._position[best]), self.bm25.term_weight
            )  # fmt: skip
        return Evidence(max(dense.values(), default=0.0) if dense is not None else None, coverage, chinese)

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

    def _bm25_run(self, query_terms: list[str], allowed: np.ndarray | None) -> dict[str, float]:
        scores = self.bm25.scores(query_terms)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        best = np.argsort(-scores, kind="stable")[:CANDIDATES]
        return {self.passages[i].passage_id: float(scores[i]) for i in best if scores[i] > 0}

    def _dense_run(self, query: str, allowed: np.ndarray | None) -> dict[str, float]:
        """Similarity of each passage, plus ``SENTENCE_WEIGHT`` times that of its closest sentence:
        a long clause whose one sentence answers the question is not drowned by the rest of it."""
        vector = self.query_vector(normalize(query))
        depth = CANDIDATES if allowed is None else len(self.dense)  # filtered: rank all, keep the allowed
        positions, similarities = self.dense.search(vector, depth)
        best_sentence = self._best_sentences(vector, depth)
        floor = min(best_sentence.values(), default=0.0)  # for a passage none of whose sentences came back
        scores = {
            int(i): float(s) + SENTENCE_WEIGHT * best_sentence.get(int(i), floor)
            for i, s in zip(positions, similarities, strict=True)
            if allowed is None or allowed[i]
        }
        return {self.passages[i].passage_id: score for i, score in sorted(scores.items(), key=lambda kv: -kv[1])}

    def _best_sentences(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """The highest similarity among each passage's sentences that rank in the top ``depth * 4``."""
        positions, similarities = self.sentences.search(vector, depth * 4)
        best: dict[int, float] = {}
        for position, similarity in zip(positions, similarities, strict=True):
            owner = int(self.sentence_owner[position])
            best.setdefault(owner, float(similarity))  # results come best first
        return best
