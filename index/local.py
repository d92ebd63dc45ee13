"""The in-memory store: BM25 over a sparse term matrix, faiss over passage vectors, and window vectors."""

from __future__ import annotations

import uuid
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from corpus.models import Document, Passage
from index.bm25 import BM25Index
from index.contract import Filters, Scores, Snapshot
from index.dense import DenseIndex
from index.embedders import Embedder
from index.sentence_vectors import SentenceVectors
from index.tokenizer import Tokenizer

# Masks of the filters portals use most (a notice, a section), kept between searches.
FILTER_CACHE_SIZE = 256


@dataclass(eq=False)
class LocalIndex(Snapshot):
    """Passages of one or more notices, held in this process: a build of a ``DirectoryIndex``, never changed once
    made, so it is its own snapshot."""

    documents: list[Document]
    passages: list[Passage]
    tokenizer: Tokenizer
    bm25: BM25Index
    dense: DenseIndex
    sentences: SentenceVectors
    embedder: Embedder
    manifest: dict[str, Any] = field(default_factory=dict)
    build: str | None = None  # the IndexStore build it was read from or written to

    def __post_init__(self) -> None:
        self.version = self.build or uuid.uuid4().hex  # a build is never changed once made
        self._ids = [passage.passage_id for passage in self.passages]
        self._by_id = dict(zip(self._ids, self.passages, strict=True))
        self._position = {passage_id: i for i, passage_id in enumerate(self._ids)}
        # Filters test each distinct notice and section path once, then select passages by code.
        self._doc_code = {document.doc_id: code for code, document in enumerate(self.documents)}
        self._doc_of = np.fromiter((self._doc_code[p.doc_id] for p in self.passages), dtype=np.int32)
        self._section_paths: dict[tuple[str, ...], int] = {}
        self._section_of = np.fromiter(
            (self._section_paths.setdefault(p.section_path, len(self._section_paths)) for p in self.passages),
            dtype=np.int32,
        )
        self._allowed = lru_cache(maxsize=FILTER_CACHE_SIZE)(self._passages_allowed)
        # The notice leg's BM25: each notice's terms are all its passages' terms, as in the database backend.
        notice_tokens: list[list[str]] = [[] for _ in self.documents]
        for passage, tokens in zip(self.passages, self.bm25.corpus_tokens, strict=True):
            notice_tokens[self._doc_code[passage.doc_id]].extend(tokens)
        self._notice_bm25 = BM25Index(notice_tokens)

    def reading(self) -> AbstractContextManager[LocalIndex]:
        """Itself: a build is read as it was made."""
        return nullcontext(self)

    def lexical_run(self, query_terms: list[str], filters: Filters, limit: int) -> Scores:
        scores = self.bm25.scores(query_terms)
        if filters:
            scores = np.where(self._allowed(filters), scores, 0.0)
        matching = np.flatnonzero(scores > 0)
        if len(matching) > limit:  # select before sorting: a full sort costs 2 ms at 100k passages
            kth = np.partition(scores[matching], len(matching) - limit)[len(matching) - limit]
            matching = matching[scores[matching] >= kth]  # ties at the cut stay, in passage order
        best = matching[np.lexsort((matching, -scores[matching]))][:limit]
        return self._run(best, scores[best])

    def notice_run(self, query_terms: list[str]) -> Scores:
        scores = self._notice_bm25.scores(query_terms)
        return {self.documents[code].doc_id: float(scores[code]) for code in np.flatnonzero(scores > 0)}

    def passage_run(self, vector: np.ndarray, filters: Filters, limit: int) -> Scores:
        positions, similarities = self.dense.search(vector, limit, self._allowed(filters) if filters else None)
        return self._run(positions, similarities)

    def sentence_run(self, vector: np.ndarray, passage_ids: list[str]) -> Scores:
        positions = np.fromiter(map(self._position.__getitem__, passage_ids), dtype=np.int64, count=len(passage_ids))
        best = self.sentences.best(vector, positions)
        has_sentences = ~np.isnan(best)
        return self._run(positions[has_sentences], best[has_sentences])

    def passage_terms(self, passage_id: str) -> frozenset[str]:
        return self.bm25.term_set(self._position[passage_id])

    def term_weight(self, term: str) -> float:
        return self.bm25.term_weight(term)

    def get_passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    def document_counts(self) -> list[tuple[Document, int]]:
        counts = Counter(passage.doc_id for passage in self.passages)
        return [(document, counts[document.doc_id]) for document in self.documents]

    def _run(self, positions: np.ndarray, scores: np.ndarray) -> Scores:
        return dict(zip(map(self._ids.__getitem__, positions.tolist()), scores.tolist(), strict=True))

    def _passages_allowed(self, filters: Filters) -> np.ndarray:
        """Which passages ``filters`` keeps, as a mask in passage order."""
        allowed = np.ones(len(self.passages), dtype=bool)
        if filters.doc_id is not None:
            allowed &= self._doc_of == self._doc_code.get(filters.doc_id, -1)
        if filters.section is not None:
            codes = [code for path, code in self._section_paths.items() if any(filters.section in h for h in path)]
            allowed &= np.isin(self._section_of, codes)
        if filters.on_notices:
            kept = [code for code, document in enumerate(self.documents) if filters.keeps(document.identity)]
            allowed &= np.isin(self._doc_of, kept)
        allowed.flags.writeable = False  # shared by every caller of the cache
        return allowed
