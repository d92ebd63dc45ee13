"""Lexical scoring: Okapi BM25 (rank-bm25) over jieba terms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi


class BM25Index:
    """BM25 scores of every passage for a query's terms; persisted as the passages' term lists."""

    def __init__(self, corpus_tokens: list[list[str]]) -> None:
        self.corpus_tokens = corpus_tokens
        # rank-bm25 divides by the corpus size: an empty corpus has no scores to give.
        self._bm25 = BM25Okapi(corpus_tokens) if corpus_tokens else None

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """One BM25 score per passage, in passage order; all zero when no term matches."""
        if self._bm25 is None or not query_tokens:
            return np.zeros(len(self.corpus_tokens), dtype=np.float64)
        return np.asarray(self._bm25.get_scores(query_tokens), dtype=np.float64)

    def idf(self, term: str) -> float:
        """The term's inverse document frequency; 0 for a term no passage has."""
        return float(self._bm25.idf.get(term, 0.0)) if self._bm25 is not None else 0.0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.corpus_tokens, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        return cls(json.loads(path.read_text(encoding="utf-8")))
