"""Evaluate every mode on one split of the gold set; write a markdown report, a chart and TREC runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.dataset import Qrels, Query, load_qrels, load_queries
from eval.harness import (
    DEPTH,
    METRICS,
    Flagging,
    ModeResult,
    Searcher,
    flagging,
    recall_curve,
    run_mode,
    score,
    setup_lines,
    write_trec,
)
from retrieval import MODES


@dataclass
class SplitReport:
    """Metrics of every mode on one split: overall, per question type, and unanswerable flagging."""

    split: str
    queries: list[Query]
    qrels: Qrels
    results: list[ModeResult]

    def overall(self, result: ModeResult) -> dict[str, float]:
        return score(self.qrels, result.run)

    def by_type(self, result: ModeResult) -> dict[str, dict[str, float]]:
        types = sorted({q.type for q in self.queries if q.qid in self.qrels})
        return {
            kind: score(
                {q.qid: self.qrels[q.qid] for q in self.queries if q.type == kind and q.qid in self.qrels}, result.run
            )
            for kind in types
        }

    def flagging(self, result: ModeResult) -> Flagging:
        return flagging(self.queries, self.qrels, result.answerable)


def evaluate_split(split: str, searcher: Searcher, modes: Sequence[str] = MODES) -> SplitReport:
    """Ask every question of ``split`` in every mode."""
    queries = load_queries(split)
    return SplitReport(split, queries, load_qrels(split), [run_mode(queries, searcher, mode) for mode in modes])


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def overall_table(report: SplitReport) -> list[str]:
    """One row per mode, one column per metric."""
    rows = [[r.mode, *(f"{report.overall(r)[m]:.3f}" for m in METRICS)] for r in report.results]
    return _table(["mode", *METRICS.values()], rows)


def markdown(reports: Sequence[SplitReport], chart: str | None, setup: dict[str, Any] | None = None) -> str:
    """The full report: overall, per type, unanswerable flagging, per split; what ranked it, if given."""
    lines = ["# Retrieval evaluation", ""]
    lines.append(
        "Gold set: `eval/gold/` (BEIR format). Hit@1, Recall@k and MRR count any judged clause as relevant; "
        "nDCG@10 uses the grades (2 answers fully, 1 in part). Unanswerable questions are scored only on flagging."
    )
    for report in reports:
        answerable = sum(q.qid in report.qrels for q in report.queries)
        lines += [
            "",
            f"## {report.split} ({answerable} answerable, {len(report.queries) - answerable} unanswerable)",
            "",
        ]
        lines += overall_table(report)
        lines += ["", "### By question type", ""]
        rows = []
        for result in report.results:
            for kind, values in report.by_type(result).items():
                rows.append([kind, result.mode, *(f"{values[m]:.3f}" for m in METRICS)])
        lines += _table(["type", "mode", *METRICS.values()], sorted(rows))
        lines += ["", "### Questions the notices cannot answer (`answerable`)", ""]
        flag_rows = []
        for result in report.results:
            f = report.flagging(result)
            flag_rows.append(
                [result.mode, f"{f.unanswerable_flagged}/{f.unanswerable}", f"{f.answerable_flagged}/{f.answerable}"]
            )
        lines += _table(["mode", "unanswerable flagged", "answerable wrongly flagged"], flag_rows)
    if chart:
        lines += ["", f"![Recall@k per mode]({chart})"]
    if setup:
        lines += ["", *setup_lines(setup)]
    return "\n".join(lines) + "\n"


def recall_chart(reports: Sequence[SplitReport], path: Path) -> None:
    """A PNG of Recall@k (k = 1 … 10) per mode, one panel per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(reports), figsize=(5.5 * len(reports), 4), squeeze=False)
    ks = list(range(1, DEPTH + 1))
    for axis, report in zip(axes[0], reports, strict=True):
        for result in report.results:
            axis.plot(ks, recall_curve(report.qrels, result.run), marker="o", label=result.mode)
        axis.set_title(f"Recall@k, {report.split} split")
        axis.set_xlabel("k")
        axis.set_ylabel("Recall@k")
        axis.set_xticks(ks)
        axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(reports: Sequence[SplitReport], out_dir: Path, setup: dict[str, Any] | None = None) -> Path:
    """Write report.md (with ``setup``, what ranked the run), recall.png and one TREC run per split and mode into
    ``out_dir``; return report.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for report in reports:
        for result in report.results:
            write_trec(result.run, str(out_dir / f"{report.split}-{result.mode}.trec"), f"policyqa-{result.mode}")
    recall_chart(reports, out_dir / "recall.png")
    path = out_dir / "report.md"
    path.write_text(markdown(reports, "recall.png", setup), encoding="utf-8")
    return path
