"""Choose the reranking stage's depth and weight: every combination asked over a dataset, each (question, clause)
pair read by the reranker once.

    POLICYQA_RERANKER=policyqa python -m eval.rerank_sweep DATASET --index-dir DIR \\
        [--depths 10,20,30] [--weights 0.3,0.5,0.7,0.9,1]

Prints one row per combination (hybrid mode): answer Hit@1, Recall@5 and MRR@10 by question type (the NCP
conversion types its questions by half), and how ``answerable`` flags. Choose on dev questions, then confirm on
held-out ones: a setting chosen on the set it is reported on is fitted to it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eval.dataset_report import DatasetReport, evaluate_dataset
from eval.harness import library_searcher
from index.factory import open_index
from retrieval import Reranker, Retriever, make_reranker
from service.settings import Settings

MEASURES = ("answer_hit@1", "answer_recall@5", "answer_mrr@10")


class RememberingReranker:
    """A reranker that reads each (question, clause) pair once, however many settings ask for it."""

    def __init__(self, reranker: Reranker) -> None:
        self.inner = reranker
        self.id = reranker.id
        self._scores: dict[tuple[str, str], float] = {}

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if unread := [p for p in dict.fromkeys(passages) if (query, p) not in self._scores]:
            for passage, value in zip(unread, self.inner.score(query, unread).tolist(), strict=True):
                self._scores[(query, passage)] = value
        return np.array([self._scores[(query, passage)] for passage in passages], dtype=np.float32)


def sweep_rows(report: DatasetReport, label: str) -> list[str]:
    """``report``'s hybrid figures as one markdown row a question type, led by ``label``."""
    rows = []
    for mode, values in report.answer_metrics.items():
        kind = mode.partition(", ")[2] or "all"
        cells = " | ".join(f"{values[measure]:.3f}" for measure in MEASURES)
        rows.append(f"| {label} | {kind} | {cells} |")
    flagged = report.flagging["hybrid"]
    rows.append(
        f"| {label} | flagged | no answer {flagged.unanswerable_flagged}/{flagged.unanswerable}, "
        f"answered {flagged.answerable_flagged}/{flagged.answerable} | | |"
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.rerank_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, help="a dataset directory (notices/, queries.jsonl, answers.jsonl)")
    parser.add_argument("--index-dir", type=Path, required=True, help="the index of the dataset's notices")
    parser.add_argument("--depths", default="10,20,30", help="comma-separated rerank depths")
    parser.add_argument("--weights", default="0.3,0.5,0.7,0.9,1", help="comma-separated rerank weights")
    args = parser.parse_args(argv)
    settings = Settings()
    reranker = make_reranker(settings.reranker, settings.reranker_device)
    if reranker is None:
        parser.error("POLICYQA_RERANKER names no reranker: nothing to sweep")
    remembering = RememberingReranker(reranker)
    settings = settings.model_copy(update={"corpus_dir": args.dataset / "notices", "index_dir": args.index_dir})
    index, _ = open_index(settings.index_config())
    base = settings.ranking_config()
    print(f"reranker {reranker.id}, answerable by its best score from {base.thresholds.min_rerank} (None: the legs)")
    print("| depth, weight | questions | " + " | ".join(MEASURES) + " |\n|---|---|---|---|---|")
    first_stage = Retriever(index, base)
    for line in sweep_rows(evaluate_dataset(args.dataset, library_searcher(first_stage), ["hybrid"]), "none"):
        print(line, flush=True)
    depths = sorted((int(value) for value in args.depths.split(",")), reverse=True)  # the deepest reads every pair
    for depth in depths:
        for weight in (float(value) for value in args.weights.split(",")):
            config = dataclasses.replace(base, rerank_depth=depth, rerank_weight=weight)
            retriever = Retriever(index, config, remembering)
            report = evaluate_dataset(args.dataset, library_searcher(retriever), ["hybrid"])
            for line in sweep_rows(report, f"{depth}, {weight:g}"):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
