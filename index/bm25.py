"""Lexical scoring: Okapi BM25 over jieba terms, through a precomputed sparse term-document matrix.

The scores are rank-bm25's ``BM25Okapi`` (k1=1.5, b=0.75, negative idfs floored at 0.25 x
the average idf), but each (term, passage) weight is computed once at construction, so a
query costs a sum over the passages that hold its terms instead of a pass over every passage.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import scipy.sparse as sp

# The BM25 variant, named as bm25s names them: Robertson's idf ln((N - df + 0.5) / (df + 0.5)), with rank-bm25's
# floor for negative idfs (EPSILON times the mean idf). The PostgreSQL store's SQL computes the same, and a
# test holds it to these scores.
VARIANT = "robertson"
K1 = 1.5
B = 0.75
EPSILON = 0.25


class BM25Index:
    """BM25 scores of every passage for a query's terms; persisted as the passages' term lists."""

    def __init__(self, corpus_tokens: list[list[str]]) -> None:
        self.corpus_tokens = corpus_tokens
        self._vocabulary: dict[str, int] = {}
        term_ids = np.fromiter(
            (self._vocabulary.setdefault(term, len(self._vocabulary)) for tokens in corpus_tokens for term in tokens),
            dtype=np.int32,
        )
        doc_len = np.fromiter(map(len, corpus_tokens), dtype=np.float64, count=len(corpus_tokens))
        passages = np.repeat(np.arange(len(corpus_tokens), dtype=np.int32), doc_len.astype(np.int64))
        # COO to CSC sums the repeated (passage, term) entries into term frequencies.
        shape = (len(corpus_tokens), len(self._vocabulary))
        matrix = sp.csc_matrix((np.ones(len(term_ids)), (passages, term_ids)), shape=shape)
        doc_freq = np.diff(matrix.indptr)
        self._idf = np.log(len(corpus_tokens) - doc_freq + 0.5) - np.log(doc_freq + 0.5)
        if self._idf.size:
            self._idf[self._idf < 0] = EPSILON * self._idf.mean()
        tf = matrix.data
        average_len = doc_len.mean() if doc_len.sum() else 1.0  # no term anywhere: nothing to normalise
        length_norm = 1 - B + B * doc_len[matrix.indices] / average_len
        matrix.data = np.repeat(self._idf, doc_freq) * tf * (K1 + 1) / (tf + K1 * length_norm)
        self._weights = matrix
        self._max_idf = float(self._idf.max(initial=0.0))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """One BM25 score per passage, in passage order; all zero when no term matches.

        A term repeated in the query counts once per occurrence, as in rank-bm25.
        """
        counts = Counter(self._vocabulary[term] for term in query_tokens if term in self._vocabulary)
        if not counts:
            return np.zeros(len(self.corpus_tokens), dtype=np.float64)
        # Each term's column of the CSC matrix is its postings: the passages holding it, with its weight in each.
        matrix = self._weights
        postings = [slice(matrix.indptr[term], matrix.indptr[term + 1]) for term in counts]
        passages = np.concatenate([matrix.indices[span] for span in postings])
        weights = np.concatenate([matrix.data[span] * n for span, n in zip(postings, counts.values(), strict=True)])
        return np.bincount(passages, weights, minlength=len(self.corpus_tokens))

    def idf(self, term: str) -> float:
        """The term's inverse document frequency; 0 for a term no passage has."""
        column = self._vocabulary.get(term)
        return 0.0 if column is None else float(self._idf[column])

    def term_weight(self, term: str) -> float:
        """The term's idf; a term no passage has weighs as much as the rarest term that some passage has
        (a question about 个人所得税 is mostly about what the notices do not contain)."""
        return self.idf(term) or self._max_idf

    def term_set(self, position: int) -> frozenset[str]:
        """The distinct terms of the passage at ``position``."""
        return frozenset(self.corpus_tokens[position])

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.corpus_tokens, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        return cls(json.loads(path.read_text(encoding="utf-8")))
