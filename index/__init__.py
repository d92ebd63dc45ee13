"""Index passages for BM25 and dense search, fuse the rankings, and persist the result."""

from index.builder import IndexBuildError, IndexReport, build_index, ensure_index
from index.embedders import BACKENDS, Embedder, make_embedder
from index.hybrid import MODES, Hit, HybridIndex
from index.store import IndexMismatchError, IndexStore

__all__ = [
    "BACKENDS",
    "MODES",
    "Embedder",
    "Hit",
    "HybridIndex",
    "IndexBuildError",
    "IndexMismatchError",
    "IndexReport",
    "IndexStore",
    "build_index",
    "ensure_index",
    "make_embedder",
]
