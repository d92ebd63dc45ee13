"""Stores of indexed notices: clauses tokenized for BM25 and embedded for dense search, written notice by notice
and read as snapshots of each leg's raw scores; ranking is above them, in retrieval/.

``open_index`` (index/factory.py) opens an ``Index`` (index/contract.py) on any registered store.
"""

from index.builder import build_index
from index.contract import Filters, Index, Readable, Snapshot
from index.directory import DirectoryIndex
from index.embedders import EMBEDDER_KINDS, Embedder, make_embedder
from index.errors import IndexBuildError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from index.factory import STORES, IndexConfig, open_index
from index.local import LocalIndex
from index.store import IndexStore
from index.sync import IndexReport, sync_index

__all__ = [
    "EMBEDDER_KINDS",
    "STORES",
    "DirectoryIndex",
    "Embedder",
    "Filters",
    "Index",
    "IndexBuildError",
    "IndexConfig",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexReport",
    "IndexStore",
    "IndexUnavailableError",
    "LocalIndex",
    "Readable",
    "Snapshot",
    "build_index",
    "make_embedder",
    "open_index",
    "sync_index",
]
