"""The in-memory backend: BM25 over a sparse term matrix and faiss over passage and sentence vectors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from corpus.models import Document, Passage
from index.answerability import Thresholds
from index.backend import CANDIDATES, SENTENCE_CANDIDATES, Filters, Run, SearchBackend
from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.embedders import Embedder
from index.tokenizer import Tokenizer


@dataclass(eq=False)
class HybridIndex(SearchBackend):
    """Passages of one or more notices, held in this process and searchable by BM25, dense vectors or both."""

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
        super().__init__()
        self._by_id = {passage.passage_id: passage for passage in self.passages}
        self._position = {passage.passage_id: i for i, passage in enumerate(self.passages)}

    def lexical_run(self, query_terms: list[str], filters: Filters) -> Run:
        scores = self.bm25.scores(query_terms)
        if filters:
            scores = np.where(self._allowed(filters), scores, 0.0)
        matching = np.flatnonzero(scores > 0)
        if len(matching) > CANDIDATES:  # select before sorting: a full sort costs 2 ms at 100k passages
            kth = np.partition(scores[matching], len(matching) - CANDIDATES)[len(matching) - CANDIDATES]
            matching = matching[scores[matching] >= kth]  # ties at the cut stay, in passage order
        best = matching[np.lexsort((matching, -scores[matching]))][:CANDIDATES]
        return {self.passages[i].passage_id: float(scores[i]) for i in best}

    def passage_run(self, vector: np.ndarray, filters: Filters) -> Run:
        positions, similarities = self.dense.search(vector, len(self.dense) if filters else CANDIDATES)
        allowed = self._allowed(filters) if filters else None
        run = {
            self.passages[i].passage_id: float(s)
            for i, s in zip(positions, similarities, strict=True)
            if allowed is None or allowed[i]
        }
        return dict(list(run.items())[:CANDIDATES])

    def sentence_run(self, vector: np.ndarray, filters: Filters) -> Run:
        depth = len(self.sentences) if filters else SENTENCE_CANDIDATES
        positions, similarities = self.sentences.search(vector, depth)
        best: Run = {}
        for position, similarity in zip(positions, similarities, strict=True):
            passage = self.passages[int(self.sentence_owner[position])]
            if not filters or filters.allows(passage):
                best.setdefault(passage.passage_id, float(similarity))  # results come best first
        return best

    def passage_terms(self, passage_id: str) -> frozenset[str]:
        return self.bm25.term_set(self._position[passage_id])

    def term_weight(self, term: str) -> float:
        return self.bm25.term_weight(term)

    def get_passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    def document_counts(self) -> list[tuple[Document, int]]:
        counts = Counter(passage.doc_id for passage in self.passages)
        return [(document, counts[document.doc_id]) for document in self.documents]

    def _allowed(self, filters: Filters) -> np.ndarray:
        return np.fromiter((filters.allows(p) for p in self.passages), dtype=bool, count=len(self.passages))
