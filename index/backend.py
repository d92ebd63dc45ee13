"""What every search backend shares: validation, the two legs' combination, fusion, answerability, highlights.

A backend (the in-memory ``LocalIndex``, or one over a database) supplies the raw legs:
BM25 scores of the passages holding the query's terms, the dense similarity of the nearest
passages and of their nearest sentences, and the terms and weights the evidence needs.
Everything after that is here, so that two backends over the same corpus rank alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from corpus.models import Document, Passage
from index.answerability import Evidence, Thresholds, is_answerable, term_coverage
from index.embedders import Embedder
from index.fusion import Scores, weighted
from index.highlight import SentenceTerms, best_sentence, sentence_terms
from index.tokenizer import Tokenizer, has_chinese, normalize

MODES = ("hybrid", "bm25", "dense")
# How deep each leg ranks before fusion; deeper than any top_k a caller may ask for.
CANDIDATES = 100
# Weights of the two legs in hybrid mode, and of a passage's best window in its dense score,
# chosen on the tuning part of the gold set (eval/results/report.md).
FUSION_WEIGHTS = {"bm25": 0.3, "dense": 0.7}
SENTENCE_WEIGHT = 1.5
# Where the notices' BM25 tells them apart (a question names a place or issuer that its clause does not),
# the notice's score takes this share of a passage's hybrid score, the two legs the rest (chosen on the
# NCP dev questions, README). One notice alone, or none that holds the question's terms, leaves it out.
NOTICE_WEIGHT = 0.5
QUERY_CACHE_SIZE = 4096
SENTENCE_CACHE_SIZE = 8192


class Filters(NamedTuple):
    """Keep one notice's passages (``doc_id``) and/or those under a heading containing ``section``."""

    doc_id: str | None = None
    section: str | None = None

    def __bool__(self) -> bool:
        return self.doc_id is not None or self.section is not None


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


class SearchBackend(ABC):
    """Ranks passages for a question; subclasses supply the legs' raw scores and the passages."""

    tokenizer: Tokenizer
    embedder: Embedder
    thresholds: Thresholds

    def __init__(self) -> None:
        # Portals see the same questions again and again: keep their embeddings.
        self.query_vector = lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)
        # Cutting a passage into sentences and terms costs a millisecond; answers reuse the same passages.
        self._sentence_terms = lru_cache(maxsize=SENTENCE_CACHE_SIZE)(self._cut_sentences)

    # The legs, and what the rest needs to know of the passages.

    @abstractmethod
    def lexical_run(self, query_terms: list[str], filters: Filters) -> Scores:
        """BM25 scores of the (at most ``CANDIDATES``) best passages that hold any of the terms, best first."""

    @abstractmethod
    def notice_run(self, query_terms: list[str]) -> Scores:
        """BM25 scores of the notices that hold any of the terms, a notice's terms being all its passages'; by doc id."""

    @abstractmethod
    def passage_run(self, vector: np.ndarray, filters: Filters) -> Scores:
        """Cosine similarity of the (at most ``CANDIDATES``) nearest passages, best first."""

    @abstractmethod
    def sentence_run(self, vector: np.ndarray, passage_ids: list[str]) -> Scores:
        """For each of these passages that has sentences, the similarity of its closest sentence."""

    @abstractmethod
    def passage_terms(self, passage_id: str) -> frozenset[str]:
        """The distinct BM25 terms of a passage."""

    @abstractmethod
    def term_weight(self, term: str) -> float:
        """A term's idf; a term no passage has weighs as much as the rarest one some passage has."""

    @abstractmethod
    def get_passage(self, passage_id: str) -> Passage | None:
        """A passage by its id, or None."""

    @abstractmethod
    def document_counts(self) -> list[tuple[Document, int]]:
        """Every indexed notice with its number of passages."""

    # Shared by every backend.

    def search(
        self, query: str, top_k: int = 5, mode: str = "hybrid", doc_id: str | None = None, section: str | None = None
    ) -> Ranking:
        """The ``top_k`` passages that best answer ``query``, best first, and whether any answers it.

        ``mode`` is ``hybrid`` (both legs' normalised scores, weighted), ``bm25`` or ``dense``.
        ``doc_id`` keeps one notice's passages; ``section`` keeps passages with a section
        heading containing it (主要任务, (二)).
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        filters = Filters(doc_id, section)
        runs: dict[str, Scores] = {}
        query_terms: list[str] = []
        if mode in ("hybrid", "bm25"):
            query_terms = self.tokenizer.tokenize(query)
            runs["bm25"] = self.lexical_run(query_terms, filters)
        if mode in ("hybrid", "dense"):
            runs["dense"] = self._dense_run(query, filters)
        if mode == "hybrid":
            fused = weighted(runs, FUSION_WEIGHTS, floors={"bm25": 0.0})
            self._add_notice_leg(fused, query_terms)
            scored = {key: (sum(parts.values()), parts) for key, parts in fused.items()}
        else:
            scored = {key: (score, {mode: score}) for key, score in runs[mode].items()}
        order = sorted(scored, key=lambda key: (-scored[key][0], key))[:top_k]
        hits = [
            Hit(rank, passage, float(scored[key][0]), scored[key][1])
            for rank, key in enumerate(order, start=1)
            if (passage := self.get_passage(key)) is not None
        ]
        evidence = self._evidence(runs, query_terms, has_chinese(query))
        return Ranking(hits, evidence, is_answerable(evidence, self.thresholds))

    def highlight(self, passage: Passage, query: str) -> str:
        """The sentence of ``passage`` that best answers ``query``."""
        candidates = self._sentence_terms(passage.body, self.tokenizer)
        if not candidates:
            return passage.body
        return best_sentence(passage.body, candidates, set(self.tokenizer.tokenize(query)), self.term_weight)

    def _add_notice_leg(self, fused: dict[str, dict[str, float]], query_terms: list[str]) -> None:
        """Give each fused passage its notice's share, ``NOTICE_WEIGHT`` times the notice's BM25 score over
        the best notice's, and scale the legs' parts to the rest."""
        notices = self.notice_run(query_terms)
        best = max(notices.values(), default=0.0)
        if best <= 0:
            return
        for key, parts in fused.items():
            for leg in parts:
                parts[leg] *= 1 - NOTICE_WEIGHT
            doc_id = key.rsplit(":", 1)[0]  # passage ids are <doc_id>:<position>, and positions hold no colon
            parts["notice"] = NOTICE_WEIGHT * notices.get(doc_id, 0.0) / best

    def _dense_run(self, query: str, filters: Filters) -> Scores:
        """Each passage's similarity plus ``SENTENCE_WEIGHT`` times its closest sentence's: a long clause
        whose one sentence answers the question is not drowned by the rest of it."""
        vector = self.query_vector(normalize(query))
        nearest = self.passage_run(vector, filters)
        best_sentence_of = self.sentence_run(vector, list(nearest))
        floor = min(best_sentence_of.values(), default=0.0)  # for a passage too short to have sentences
        scores = {
            key: similarity + SENTENCE_WEIGHT * best_sentence_of.get(key, floor) for key, similarity in nearest.items()
        }
        return dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))

    def _evidence(self, runs: dict[str, Scores], query_terms: list[str], chinese: bool) -> Evidence:
        dense, lexical = runs.get("dense"), runs.get("bm25")
        coverage = None
        if lexical is not None:
            best = next(iter(lexical), None)
            coverage = 0.0 if best is None else term_coverage(query_terms, self.passage_terms(best), self.term_weight)
        return Evidence(max(dense.values(), default=0.0) if dense is not None else None, coverage, chinese)

    def _embed_query(self, normalized_query: str) -> np.ndarray:
        vector = self.embedder.embed_queries([normalized_query])[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        return vector

    def _cut_sentences(self, text: str, tokenizer: Tokenizer) -> SentenceTerms:
        # Keyed by the text and tokenizer themselves, not the passage id: a search reading an older
        # snapshot of a database (or an index swapped since) can never get another text's sentences.
        return sentence_terms(text, tokenizer.tokenize)
