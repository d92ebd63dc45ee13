"""Index passages for BM25 and dense search, fuse the rankings, and persist the result."""

from index.answerability import Evidence, Thresholds
from index.backend import MODES, Filters, Hit, Ranking, SearchBackend
from index.builder import IndexReport, build_index, ensure_index
from index.embedders import EMBEDDER_KINDS, Embedder, make_embedder
from index.errors import IndexBuildError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from index.hybrid import HybridIndex
from index.store import IndexStore

__all__ = [
    "EMBEDDER_KINDS",
    "MODES",
    "Embedder",
    "Evidence",
    "Filters",
    "Hit",
    "HybridIndex",
    "IndexBuildError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexReport",
    "IndexStore",
    "IndexUnavailableError",
    "Ranking",
    "SearchBackend",
    "Thresholds",
    "build_index",
    "ensure_index",
    "make_embedder",
]
