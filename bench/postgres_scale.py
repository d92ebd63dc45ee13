"""PostgreSQL backend at scale: ingest time, database size and search latency as the corpus grows.

    python -m tests.pg_server          # in another shell: a throwaway PostgreSQL 18 + pgvector; prints its DSN
    python bench/postgres_scale.py --database-url DSN [--sizes 77 1000 10000 100000] [--out ...]

The corpus and vectors are bench/scale.py's (the real notice, then synthetic notices, with
synthetic vectors). Each size is ingested into a fresh database through
``PostgresIndex.ingest`` (one transaction, as ``policyqa index`` does), then searched
through ``Retriever.search`` in every mode, each question's vector already cached.
The databases are created on the server of ``--database-url`` (its user needs CREATEDB)
and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import NamedTuple

import psycopg
from corpus_generator import SyntheticEmbedder, generate
from psycopg import sql
from scale import QUESTIONS, percentiles, timings

from corpus import Notice, Passage
from index.postgres import PostgresIndex
from retrieval import MODES, RetrievalRequest, Retriever

SIZES = (77, 1_000, 10_000, 100_000)


class Measurement(NamedTuple):
    """One corpus size: ingest seconds, database MB, and p50 / p95 search ms per mode."""

    passages: int
    notices: int
    ingest_seconds: float
    megabytes: float
    latency: dict[str, tuple[float, float]]


def notices(size: int) -> list[Notice]:
    """The generated corpus of ``size`` passages as notices, in order."""
    corpus = generate(size)
    by_doc: dict[str, list[Passage]] = defaultdict(list)
    for passage in corpus.passages:
        by_doc[passage.doc_id].append(passage)
    return [Notice(document, by_doc[document.doc_id]) for document in corpus.documents]


@contextmanager
def fresh_database(admin_dsn: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_dsn``; dropped on exit."""
    name = f"policyqa_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(admin_dsn, dbname=name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def measure(admin_dsn: str, size: int) -> Measurement:
    """Ingest ``size`` passages into a fresh database, then time searches in every mode."""
    corpus = notices(size)
    with fresh_database(admin_dsn) as dsn, PostgresIndex(dsn, SyntheticEmbedder()) as index:
        started = time.perf_counter()
        index.ingest(corpus)
        ingest_seconds = time.perf_counter() - started
        with psycopg.connect(dsn) as conn:
            (megabytes,) = conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) / 2^20 FROM pg_class AS c"
                " JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = 'policyqa' AND c.relkind = 'r'"
            ).fetchone()
        retriever = Retriever(index)
        latency = {
            mode: percentiles(timings(lambda q, m=mode: retriever.search(RetrievalRequest(q, mode=m)), QUESTIONS))
            for mode in MODES
        }
    passages = sum(len(notice.passages) for notice in corpus)
    return Measurement(passages, len(corpus), ingest_seconds, float(megabytes), latency)


def report(results: list[Measurement], server: str, seconds: float) -> str:
    """The results as a markdown table, with the machine and server they come from."""
    lines = [
        f"PostgreSQL backend at scale, {date.today().isoformat()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {server}. `python bench/postgres_scale.py` took {seconds / 60:.1f} min.",
        "",
        "Ingest: one `PostgresIndex.ingest` transaction (tokenize, synthetic vectors, COPY, corpus statistics, "
        f"HNSW upkeep). Search: p50 / p95 ms over {len(QUESTIONS)} questions x 2 passes, vectors cached.",
        "",
        "| passages | notices | ingest s | tables and indexes MB | " + " | ".join(MODES) + " |",
        "|" + "---|" * (4 + len(MODES)),
    ]
    for r in results:
        latency = " | ".join(f"{r.latency[m][0]:.2f} / {r.latency[m][1]:.2f}" for m in MODES)
        lines.append(f"| {r.passages:,} | {r.notices:,} | {r.ingest_seconds:.1f} | {r.megabytes:,.0f} | {latency} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="passage counts, smallest first")
    parser.add_argument("--database-url", required=True, help="a PostgreSQL 16+ server with pgvector")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "postgres_scale.md")
    args = parser.parse_args()
    started = time.perf_counter()
    with psycopg.connect(args.database_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    results = []
    for size in args.sizes:
        results.append(measure(args.database_url, size))
        print(f"{size:>7,} passages measured ({(time.perf_counter() - started) / 60:.1f} min)", flush=True)
    text = report(results, f"PostgreSQL {version}", time.perf_counter() - started)
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
