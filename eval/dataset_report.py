"""Evaluate a dataset built from a notices folder (``policyqa eval --dataset``) and report it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus import load_corpus
from eval.answers import ANSWER_METRICS, AnswerJudge, ask_all, judge_answers
from eval.dataset import Dataset, Query, load_dataset
from eval.harness import METRICS, Flagging, Response, Searcher, score, setup_lines
from retrieval.jurisdiction import ELSEWHERE, Jurisdiction


@dataclass
class DatasetReport:
    """Each mode's metrics on one dataset: answer-span metrics (overall, and by question type where there are
    several types), passage-level ones where it has qrels, and how ``answerable`` flags questions with no answer."""

    dataset: Dataset
    answer_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    passage_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    flagging: dict[str, Flagging] = field(default_factory=dict)
    elsewhere: dict[str, tuple[int, int]] = field(default_factory=dict)  # mode → (top-1 from another place, asked)

    def table(self) -> list[str]:
        """The report's tables as markdown lines."""
        lines = []
        for metrics, names in ((self.answer_metrics, ANSWER_METRICS), (self.passage_metrics, METRICS)):
            if not metrics:
                continue
            lines += ["| mode | " + " | ".join(names.values()) + " |", "|" + "---|" * (len(names) + 1)]
            for mode, values in metrics.items():
                cells = (f"{values[m]:.0f}" if m == "top1_chars" else f"{values[m]:.3f}" for m in names)
                lines.append(f"| {mode} | " + " | ".join(cells) + " |")
            lines.append("")
        for mode, f in self.flagging.items():
            lines.append(
                f"{mode}: flagged {f.unanswerable_flagged}/{f.unanswerable} questions with no answer, "
                f"{f.answerable_flagged}/{f.answerable} answered ones wrongly"
            )
        for mode, (elsewhere, asked) in self.elsewhere.items():
            lines.append(
                f"{mode}: the top clause is another place's for {elsewhere}/{asked} questions that name a place"
            )
        return lines


def evaluate_dataset(root: Path, searcher: Searcher, modes: Sequence[str]) -> DatasetReport:
    """Ask every question of the dataset at ``root`` in every mode and score the answers."""
    dataset = load_dataset(root)
    report = DatasetReport(dataset)
    judge = AnswerJudge({n.document.doc_id: n.document.text for n in load_corpus(dataset.notices_dir).notices})
    answered = [q for q in dataset.queries if q.qid in dataset.answers]
    types = sorted({q.type for q in answered})
    for mode in modes:
        responses = ask_all(dataset.queries, searcher, mode)
        if dataset.answers:
            report.answer_metrics[mode] = judge_answers(dataset.queries, dataset.answers, responses, judge)
            for kind in types if len(types) > 1 else ():
                of_kind = [q for q in answered if q.type == kind]
                report.answer_metrics[f"{mode}, {kind}"] = judge_answers(of_kind, dataset.answers, responses, judge)
        if dataset.qrels:
            run = {qid: {r.passage_id: float(len(resp.results) - r.rank + 1) for r in resp.results}
                   for qid, resp in responses.items()}  # fmt: skip
            report.passage_metrics[mode] = score(dataset.qrels, run)
        report.flagging[mode] = _flagging(dataset, responses)
        report.elsewhere[mode] = top_elsewhere(dataset.queries, responses)
    return report


def top_elsewhere(queries: Sequence[Query], responses: dict[str, Response]) -> tuple[int, int]:
    """How many of the questions that name a place get a top clause of a notice of another place (neither that
    place, nor one within it, nor one above it), and how many name a place."""
    asked = [(Jurisdiction(q.text), responses[q.qid].results) for q in queries]
    asked = [(jurisdiction, results) for jurisdiction, results in asked if jurisdiction.named and results]
    return sum(jurisdiction.fit(results[0].region) == ELSEWHERE for jurisdiction, results in asked), len(asked)


def _flagging(dataset: Dataset, responses: dict[str, Response]) -> Flagging:
    """Questions with no answer or judged passage (off-topic ones) flagged ``answerable: false``, and answered
    ones flagged wrongly."""
    judged = {q.qid for q in dataset.queries if q.qid in dataset.answers or q.qid in dataset.qrels}
    none: list[Query] = [q for q in dataset.queries if q.qid not in judged]
    return Flagging(
        unanswerable=len(none),
        unanswerable_flagged=sum(not responses[q.qid].answerable for q in none),
        answerable=len(judged),
        answerable_flagged=sum(not responses[qid].answerable for qid in judged),
    )


def write_dataset_report(report: DatasetReport, out_dir: Path, setup: dict[str, Any] | None = None) -> Path:
    """Write ``report-<dataset>.md`` (with ``setup``, what ranked the run) into ``out_dir``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = report.dataset
    path = out_dir / f"report-{dataset.root.resolve().name}.md"
    header = [
        f"# Retrieval evaluation: {dataset.root.resolve().name}",
        "",
        f"{len(dataset.queries)} questions; {len(dataset.answers)} judged by answer span, {len(dataset.qrels)} by passage.",
        "",
    ]
    path.write_text("\n".join(header + report.table() + (setup_lines(setup) if setup else [])), encoding="utf-8")
    return path
