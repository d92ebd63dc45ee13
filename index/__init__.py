"""Index passages for BM25 and dense search, fuse the rankings, and persist the result."""

from index.answerability import Evidence, Thresholds
from index.backend import MODES, Filters, Hit, Ranking, SearchBackend
from index.builder import IndexReport, build_index, ensure_index
from index.embedders import EMBEDDER_KINDS, Embedder, make_embedder
from index.errors import IndexBuildError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from index.local import LocalIndex
from index.store import IndexStore

__all__ = [
    "EMBEDDER_KINDS",
    "MODES",
    "Embedder",
    "Evidence",
    "Filters",
    "Hit",
    "IndexBuildError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexReport",
    "IndexStore",
    "IndexUnavailableError",
    "LocalIndex",
    "Ranking",
    "SearchBackend",
    "Thresholds",
    "build_index",
    "ensure_index",
    "make_embedder",
]
