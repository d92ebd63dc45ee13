"""Scale benchmark: index build time, memory and search latency from one notice to 100,000 passages.

    python bench/scale.py [--sizes 77 1000 10000 100000] [--out bench/results/scale.md]

Each size runs in a fresh process. The corpus is the real notice followed by synthetic
notices recombined from its sentences (bench/corpus_generator.py); vectors come from a
synthetic embedder, so the build and the searches are measured without the model. The index
is built as index.builder does (BM25 over each clause's lexical text, a faiss index of the
passages, and their sentences' vectors) and searched through ``Retriever.search`` in every
mode, each question's vector already cached (the query embedding is not counted). Also
measured: where a hybrid search spends its time, the former rank-bm25 leg at 10,000 and
100,000 passages (a sample of the questions), and at 100,000 the recall of the HNSW graph
against exact search.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import multiprocessing
import os
import platform
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from corpus_generator import SentenceCachedTokenizer, SyntheticEmbedder, generate
from rank_bm25 import BM25Okapi

from eval.dataset import load_queries
from index import Filters
from index.bm25 import BM25Index
from index.clauses import embed_clauses, lexical_text
from index.dense import EXACT_SEARCH_LIMIT, DenseIndex
from index.local import LocalIndex
from index.sentence_vectors import SentenceVectors
from index.tokenizer import Tokenizer, corpus_words, normalize
from retrieval import MODES, RankingConfig, RetrievalRequest, Retriever

SIZES = (77, 1_000, 10_000, 100_000)
# The Chinese questions of the gold set's tuning split (paraphrases, keywords, colloquial, unanswerable…).
QUESTIONS = [query.text for query in load_queries("tuning") if query.type != "english"]
PASSES = 2
# The former BM25 leg scores every passage in Python: a sample of the questions at 100,000 passages.
OLD_BM25_QUESTIONS = {10_000: len(QUESTIONS), 100_000: 20}
TIE = 1e-3


class RankBM25Index(BM25Index):
    """The former BM25 leg: rank-bm25's ``BM25Okapi`` scoring every passage in Python."""

    def __init__(self, corpus_tokens: list[list[str]]) -> None:
        super().__init__(corpus_tokens)
        self._okapi = BM25Okapi(corpus_tokens)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        if not query_tokens:
            return np.zeros(len(self.corpus_tokens), dtype=np.float64)
        return np.asarray(self._okapi.get_scores(query_tokens), dtype=np.float64)


@dataclasses.dataclass
class Measurement:
    """One corpus size: what building took (s) and held (MB), and search latencies (p50, p95) in ms."""

    passages: int
    notices: int
    sentences: int
    faiss_kind: str
    build_seconds: dict[str, float]
    build_mb: dict[str, float]
    latency: dict[str, tuple[float, float]]
    steps: dict[str, float]
    old_bm25: tuple[float, float] | None = None
    recall: list[tuple[str, int, float, float]] = dataclasses.field(default_factory=list)


def rss_mb() -> float:
    """Resident memory of this process, from /proc (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentiles(timings_ms: list[float]) -> tuple[float, float]:
    return statistics.median(timings_ms), statistics.quantiles(timings_ms, n=20)[-1]


def timings(call: Callable[[str], object], questions: list[str], passes: int = PASSES) -> list[float]:
    """Milliseconds per call, over ``passes`` rounds of ``questions`` after one warm-up round."""
    for question in questions:
        call(question)
    measured = []
    for _ in range(passes):
        for question in questions:
            started = time.perf_counter()
            call(question)
            measured.append((time.perf_counter() - started) * 1000)
    return measured


def measure(size: int) -> Measurement:
    """Build the index of ``size`` passages as index.builder does, then time its searches."""
    corpus = generate(size)
    passages = corpus.passages
    tokenizer = Tokenizer(corpus_words(passages))
    cutter = SentenceCachedTokenizer(tokenizer)
    tokens = [cutter.tokenize(lexical_text(passage)) for passage in passages]
    embedder = SyntheticEmbedder()
    clause_vectors = embed_clauses(embedder, passages, progress=False)
    vectors = clause_vectors.passages

    seconds, megabytes = {}, {}

    def built(name: str, build: Callable[[], object]) -> Any:
        gc.collect()
        memory, started = rss_mb(), time.perf_counter()
        result = build()
        seconds[name], megabytes[name] = time.perf_counter() - started, rss_mb() - memory
        return result

    parts = dict(
        documents=corpus.documents,
        passages=passages,
        tokenizer=tokenizer,
        bm25=built("BM25", lambda: BM25Index(tokens)),
        dense=built("faiss passages", lambda: DenseIndex.from_vectors(vectors)),
        sentences=built(
            "sentence vectors",  # a copy, as held by a process that reads them rather than maps them
            lambda: SentenceVectors(
                np.array(clause_vectors.window_vectors), clause_vectors.window_owner, len(passages)
            ),
        ),
        embedder=embedder,
    )
    index = LocalIndex(**parts)
    retriever = Retriever(index)
    latency = {
        mode: percentiles(timings(lambda q, m=mode: retriever.search(RetrievalRequest(q, mode=m)), QUESTIONS))
        for mode in MODES
    }
    kind = "HNSW" if size >= EXACT_SEARCH_LIMIT else "flat"
    result = Measurement(
        len(passages),
        len(corpus.documents),
        len(clause_vectors.windows),
        kind,
        seconds,
        megabytes,
        latency,
        hybrid_steps(index),
    )
    if size in OLD_BM25_QUESTIONS:
        old = Retriever(dataclasses.replace(index, bm25=RankBM25Index(tokens)))
        sample = QUESTIONS[: OLD_BM25_QUESTIONS[size]]
        result.old_bm25 = percentiles(timings(lambda q: old.search(RetrievalRequest(q, mode="bm25")), sample, passes=1))
    if size >= EXACT_SEARCH_LIMIT:
        result.recall = hnsw_recall(embedder, index, vectors, clause_vectors.windows)
    return result


def hybrid_steps(index: LocalIndex) -> dict[str, float]:
    """p50 ms of each step of a hybrid search: the three legs, and the faiss search inside the passage one."""
    depth = RankingConfig().candidates
    terms = {q: index.tokenizer.tokenize(q) for q in QUESTIONS}
    vector = {q: index.embedder.embed_queries([normalize(q)])[0] for q in QUESTIONS}
    nearest = {q: list(index.passage_run(vector[q], Filters(), depth)) for q in QUESTIONS}
    steps: dict[str, Callable[[str], object]] = {
        "tokenize": index.tokenizer.tokenize,
        "lexical_run": lambda q: index.lexical_run(terms[q], Filters(), depth),
        "passage_run": lambda q: index.passage_run(vector[q], Filters(), depth),
        f"of which faiss k={depth}": lambda q: index.dense.search(vector[q], depth),
        "sentence_run": lambda q: index.sentence_run(vector[q], nearest[q]),
    }
    return {name: statistics.median(timings(step, QUESTIONS)) for name, step in steps.items()}


def hnsw_recall(
    embedder: SyntheticEmbedder,
    index: LocalIndex,
    vectors: np.ndarray,
    sentence_texts: list[str],
) -> list[tuple[str, int, float, float]]:
    """Recall@k of the passages' HNSW search at the depth the hybrid search uses, against exact search.

    Per (kind of query, k): the share of the exact top k that HNSW returns, and the share
    of HNSW's top k within ``TIE`` of the exact k-th similarity (ann-benchmarks' rule, as the
    synthetic corpus repeats sentences and so ties many passages). Two kinds of query: the
    questions' random vectors (as timed, far from every passage) and sentences of the corpus
    embedded anew, with noise of their own (a question restating one sentence of a clause, near
    its clause as real questions are, and not itself in the index).
    """
    picked = np.random.default_rng(1).choice(len(sentence_texts), len(QUESTIONS), replace=False)
    queries = {
        "random": embedder.embed_queries(QUESTIONS),
        "sentence": embedder.embed_passages([sentence_texts[i] for i in picked]),
    }
    rows = []
    for kind, query_vectors in queries.items():
        for at in (10, RankingConfig().candidates):
            strict, tied = [], []
            for query in query_vectors:
                similarities = vectors @ query
                exact = np.argpartition(-similarities, at)[:at]
                approximate = index.dense.search(query, RankingConfig().candidates)[0][:at]
                strict.append(len(np.intersect1d(exact, approximate)) / at)
                tied.append(np.mean(similarities[approximate] >= similarities[exact].min() - TIE))
            rows.append((kind, at, float(np.mean(strict)), float(np.mean(tied))))
    return rows


def run(size: int) -> Measurement:
    """``measure`` in a fresh process, so that each size's memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, size).result()


def report(results: list[Measurement], seconds: float) -> str:
    """The results as markdown: machine, build, latency, per-step and recall tables, and the growth."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    versions = ", ".join(f"{p} {version(p)}" for p in ("numpy", "scipy", "faiss-cpu", "rank-bm25"))
    builds, modes = list(results[0].build_seconds), list(results[0].latency)

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    def header(cells: list[str]) -> list[str]:
        return [row(cells), row(["---"] * len(cells))]

    lines = [
        f"Scale benchmark, {date.today().isoformat()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; {versions}. `python bench/scale.py` took {seconds / 60:.1f} min.",
        "",
        "The real notice, then synthetic notices recombined from its sentences (bench/corpus_generator.py), with "
        "synthetic 384-dimension vectors. Build: BM25 matrix, the passages' faiss index and the sentence vectors, "
        "timed and measured as RSS growth one by one (approximate: a step may reuse memory an earlier one freed).",
        "",
        *header(["passages", "notices", "sentences", "faiss passages", *(f"{b} s" for b in builds),
                 *(f"{b} MB" for b in builds)]),
        *(
            row([f"{r.passages:,}", f"{r.notices:,}", f"{r.sentences:,}", r.faiss_kind,
                 *(f"{r.build_seconds[b]:.2f}" for b in builds), *(f"{r.build_mb[b]:,.1f}" for b in builds)])
            for r in results
        ),
        "",
        f"Search latency, p50 / p95 ms: {len(QUESTIONS)} Chinese questions of the gold set x {PASSES} passes through "
        "`Retriever.search` (top 5), their vectors already cached (embedding not counted). *old rank-bm25* is "
        "bm25 mode with the former `BM25Okapi` leg "
        f"({', '.join(f'{q} questions at {n:,}' for n, q in OLD_BM25_QUESTIONS.items())} passages).",
        "",
        *header(["passages", *modes, "old rank-bm25"]),
        *(
            row([f"{r.passages:,}", *(f"{r.latency[m][0]:.2f} / {r.latency[m][1]:.2f}" for m in modes),
                 f"{r.old_bm25[0]:.1f} / {r.old_bm25[1]:.1f}" if r.old_bm25 else ""])
            for r in results
        ),
        "",
        "Where a hybrid search spends its time, p50 ms per step (the rest is fusion and evidence in "
        "`Retriever.search`):",
        "",
        *header(["passages", *results[0].steps]),
        *(row([f"{r.passages:,}", *(f"{value:.2f}" for value in r.steps.values())]) for r in results),
    ]  # fmt: skip
    for r in results:
        if r.recall:
            lines += [
                "",
                f"HNSW recall against exact search at {r.passages:,} passages, searched at the hybrid depth "
                f"({RankingConfig().candidates}); *ties* counts a hit within {TIE} of the exact k-th similarity:",
                "",
                *header(["queries", "k", "recall@k", "recall@k, ties"]),
                *(row([kind, str(at), f"{strict:.3f}", f"{tied:.3f}"]) for kind, at, strict, tied in r.recall),
            ]
    first, previous, last = results[0], results[-2], results[-1]

    def grown(measure: Callable[[Measurement], float]) -> str:
        return f"{measure(last) / measure(previous):.1f}x"

    ratio = last.latency["hybrid"][0] / first.latency["hybrid"][0]
    lines += [
        "",
        f"From {previous.passages:,} to {last.passages:,} passages, build time grows "
        f"{grown(lambda r: sum(r.build_seconds.values()))} and index memory {grown(lambda r: sum(r.build_mb.values()))}"
        f", while hybrid p50 latency grows {grown(lambda r: r.latency['hybrid'][0])}; from one notice to "
        f"{last.passages:,} passages it grows {ratio:.1f}x: the target of 2x is {'met' if ratio <= 2 else 'not met'}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="passage counts, smallest first")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scale.md")
    args = parser.parse_args()
    started = time.perf_counter()
    results = []
    for size in args.sizes:
        results.append(run(size))
        print(f"{size:>7,} passages measured ({(time.perf_counter() - started) / 60:.1f} min)", flush=True)
    text = report(results, time.perf_counter() - started)
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
