"""Each passage's closest sentence to a question, scored only for the passages a search already found.

A long clause whose one sentence answers the question should not be drowned by the rest of it,
so the dense leg adds each candidate passage's best sentence similarity to its own. Scoring just
the candidates' sentences (a few hundred rows) is exact and costs the same at any corpus size,
where searching every sentence for the nearest ones grew with the corpus and needed a graph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class SentenceVectors:
    """The sentence vectors of every passage, stored passage by passage in passage order."""

    def __init__(self, vectors: np.ndarray, owner: np.ndarray, passages: int) -> None:
        """``owner[i]`` is the position of the passage sentence ``i`` belongs to, non-decreasing."""
        if len(owner) != len(vectors):
            raise ValueError(f"{len(vectors)} sentence vectors but {len(owner)} owners")
        if np.any(np.diff(owner) < 0):
            raise ValueError("sentence vectors must be grouped by passage, in passage order")
        self.vectors = vectors
        self.owner = owner
        # Passage p's sentences are rows starts[p]:starts[p + 1].
        self._starts = np.searchsorted(owner, np.arange(passages + 1))

    def best(self, query_vector: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The highest similarity of ``query_vector`` to a sentence of each passage at ``positions``;
        NaN for a passage without sentences."""
        starts, counts = self._starts[positions], self._starts[positions + 1] - self._starts[positions]
        ends = np.cumsum(counts)
        rows = np.repeat(starts - (ends - counts), counts) + np.arange(ends[-1] if len(ends) else 0)
        similarities = self.vectors[rows] @ query_vector.astype(self.vectors.dtype, copy=False)
        best = np.full(len(positions), np.nan, dtype=np.float32)
        has_sentences = counts > 0
        if rows.size:
            best[has_sentences] = np.maximum.reduceat(similarities, (ends - counts)[has_sentences])
        return best

    FILES = ("sentence_vectors.npy", "sentence_owner.npy")

    def save(self, directory: Path) -> None:
        np.save(directory / "sentence_vectors.npy", np.ascontiguousarray(self.vectors, dtype=np.float32))
        np.save(directory / "sentence_owner.npy", self.owner)

    @classmethod
    def load(cls, directory: Path, passages: int) -> SentenceVectors:
        """Map the vectors rather than read them: the pages a search touches are read, and shared by processes."""
        # A plain array over the map: indexing a ``np.memmap`` wraps each result in another memmap, which cost a
        # search 50 µs.
        return cls(
            np.load(directory / "sentence_vectors.npy", mmap_mode="r").view(np.ndarray),
            np.load(directory / "sentence_owner.npy"),
            passages,
        )
