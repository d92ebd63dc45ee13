"""Index passages for BM25 and dense search, fuse the rankings, and persist the result."""

from index.answerability import Evidence, Thresholds
from index.backend import MODES, Filters, Hit, Ranking, SearchBackend
from index.builder import IndexBuildError, IndexReport, build_index, ensure_index
from index.embedders import BACKENDS, Embedder, make_embedder
from index.hybrid import HybridIndex
from index.store import IndexMismatchError, IndexStore

__all__ = [
    "BACKENDS",
    "MODES",
    "Embedder",
    "Evidence",
    "Filters",
    "Hit",
    "HybridIndex",
    "IndexBuildError",
    "IndexMismatchError",
    "IndexReport",
    "IndexStore",
    "Ranking",
    "SearchBackend",
    "Thresholds",
    "build_index",
    "ensure_index",
    "make_embedder",
]
