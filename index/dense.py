"""Semantic scoring: inner product over L2-normalised vectors in a faiss index.

Small corpora are searched exactly (``IndexFlatIP``); from ``EXACT_SEARCH_LIMIT`` vectors on,
an HNSW graph (``IndexHNSWFlat``) answers in about a millisecond where exact search would
read every vector. Both keep the raw vectors, so ``reconstruct`` works on either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

# Below this many vectors exact search is fast enough (about 1 ms for 20,000 of 384 dimensions) and needs no graph.
EXACT_SEARCH_LIMIT = 20_000
HNSW_NEIGHBOURS = 32
# Candidates kept while linking each vector in; on the 100,000-passage set of bench/scale.py, recall@10
# for sentence-like queries was 0.78 at 80 and 0.91 at 200, for a build 2.5 times as long.
HNSW_EF_CONSTRUCTION = 200
# Candidates the graph walk keeps: at least the hybrid search depth (100); a deeper search widens it to k.
HNSW_EF_SEARCH = 128
# A walk as wide as k costs about what reading every vector does once k reaches ntotal / 64
# (about 5 ms at 100,000 vectors of 384 dimensions on 2 cores): deeper searches are answered exactly.
EXACT_SHARE = 64


class DenseIndex:
    """Inner-product search over passage vectors (cosine similarity, as the vectors are normalised)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, threshold: int = EXACT_SEARCH_LIMIT) -> DenseIndex:
        """Exact search for fewer than ``threshold`` vectors, an HNSW graph for more."""
        dim = vectors.shape[1]
        if len(vectors) < threshold:
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH  # stored with the index by faiss.write_index
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(
        self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest passages (of those ``allowed``, a mask, if given): positions and similarities, best first.

        On an HNSW graph the walk keeps at least ``k`` candidates. Where the graph would have to
        walk past most passages (a deep search, or a filter keeping few of them), the stored
        vectors are read exactly instead.
        """
        index, params = self._index, faiss.SearchParameters()
        kept = len(self) if allowed is None else int(np.count_nonzero(allowed))
        k = min(k, kept)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if isinstance(index, faiss.IndexHNSW):
            if k * EXACT_SHARE >= kept:
                index = faiss.downcast_index(index.storage)
            else:
                params = faiss.SearchParametersHNSW(efSearch=max(index.hnsw.efSearch, k))
        if allowed is not None:
            bitmap = np.packbits(allowed, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        with _one_thread():
            scores, ids = index.search(query, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run this thread's faiss calls on one OpenMP thread (libgomp keeps the setting per thread).

    One query gains nothing from more: on 2 cores an exact scan of 10,000 vectors or more took
    16 ms on two threads against 0.25 ms (10,000) to 5 ms (100,000) on one.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)
