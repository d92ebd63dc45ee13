"""Index passages for BM25 and dense search, fuse the rankings, and persist the result.

``open_index`` (index/factory.py) opens an ``Index`` (index/contract.py) on either backend.
"""

from index.answerability import Evidence, Thresholds
from index.backend import MODES, Filters, Hit, Ranking, SearchBackend
from index.builder import build_index
from index.contract import Index
from index.directory import DirectoryIndex
from index.embedders import EMBEDDER_KINDS, Embedder, make_embedder
from index.errors import IndexBuildError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from index.factory import IndexConfig, open_index
from index.local import LocalIndex
from index.store import IndexStore
from index.sync import IndexReport, sync_index

__all__ = [
    "EMBEDDER_KINDS",
    "MODES",
    "DirectoryIndex",
    "Embedder",
    "Evidence",
    "Filters",
    "Hit",
    "Index",
    "IndexBuildError",
    "IndexConfig",
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
    "make_embedder",
    "open_index",
    "sync_index",
]
