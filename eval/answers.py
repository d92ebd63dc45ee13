"""Answer-span evaluation: questions judged by the notice and the text that answers them, not by passage ids.

This is how public QA sets are written (a question, its notice, the answer span), and it holds
whatever the parser makes of a notice. For each question the service's ranking is read as:

- **notice Hit@1 / Recall@5**: the answering notice is the top result's, or among the top five's;
- **answer Hit@1 / Recall@5 / MRR@10**: a returned clause *holds the answer*: it contains the
  whole answer, or, for an answer longer than it, lies mostly (more than half) inside the answer;
- **highlight@1**: the top result's highlight contains the whole answer;
- the mean length of the top result's text.

Notices with identical text count as one, so a question is not failed for finding the copy; and a result
cites the notices its copies of the clause stand in (``also_in``) as well as its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from eval.dataset import Answer, Query
from eval.harness import DEPTH, Response, Searcher

ANSWER_METRICS = {
    "notice_hit@1": "notice Hit@1",
    "notice_recall@5": "notice Recall@5",
    "answer_hit@1": "answer Hit@1",
    "answer_recall@5": "answer Recall@5",
    "answer_mrr@10": "answer MRR@10",
    "highlight@1": "highlight@1",
    "top1_chars": "mean top-1 chars",
}
_SPACE = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    return _SPACE.sub("", text)


@dataclass
class AnswerJudge:
    """Decides whether a returned clause holds a question's answer, given the notices' texts."""

    doc_texts: dict[str, str]

    def __post_init__(self) -> None:
        first_with_text: dict[str, str] = {}
        self._canonical = {
            doc_id: first_with_text.setdefault(hashlib.sha1(text.encode()).hexdigest(), doc_id)
            for doc_id, text in sorted(self.doc_texts.items())
        }
        self._squeezed = {doc_id: _squeeze(text) for doc_id, text in self.doc_texts.items()}

    def same_notice(self, doc_id: str, gold_doc_id: str) -> bool:
        """True for the gold notice or a notice with exactly its text."""
        return self._canonical.get(doc_id, doc_id) == self._canonical.get(gold_doc_id, gold_doc_id)

    def holds(self, answer: Answer, doc_id: str, passage_text: str) -> bool:
        """True when the clause holds the whole answer, or lies mostly inside an answer longer than it."""
        wanted, clause = _squeeze(answer.text), _squeeze(passage_text)
        if not wanted or not self.same_notice(doc_id, answer.doc_id):
            return False
        if wanted in clause:
            return True
        if len(wanted) <= len(clause):
            return False
        notice = self._squeezed.get(answer.doc_id, "")
        at = notice.find(clause)
        if at < 0:
            return False
        return any(
            min(at + len(clause), start + len(wanted)) - max(at, start) > len(clause) / 2
            for start in _occurrences(notice, wanted)
        )


def _occurrences(text: str, part: str) -> list[int]:
    return [match.start() for match in re.finditer(re.escape(part), text)]


def judge_answers(
    queries: Sequence[Query], answers: dict[str, Answer], responses: dict[str, Response], judge: AnswerJudge
) -> dict[str, float]:
    """The answer-span metrics over the questions that have an answer, as means."""
    totals = dict.fromkeys(ANSWER_METRICS, 0.0)
    judged = [q for q in queries if q.qid in answers]
    for query in judged:
        answer, results = answers[query.qid], responses[query.qid].results
        holding = [any(judge.holds(answer, d, r.text) for d in r.notices) for r in results[:DEPTH]]
        in_notice = [any(judge.same_notice(d, answer.doc_id) for d in r.notices) for r in results]
        notices = list(dict.fromkeys(r.doc_id for r in results))  # the first five distinct notices' results
        first_five = [r for r in results if r.doc_id in notices[:5]]
        totals["notice_hit@1"] += bool(in_notice) and in_notice[0]
        totals["notice_recall@5"] += any(ok for r, ok in zip(results, in_notice, strict=True) if r in first_five)
        totals["answer_hit@1"] += bool(holding) and holding[0]
        totals["answer_recall@5"] += any(holding[:5])
        totals["answer_mrr@10"] += next((1 / rank for rank, ok in enumerate(holding, start=1) if ok), 0.0)
        totals["highlight@1"] += bool(results) and _squeeze(answer.text) in _squeeze(results[0].highlight)
        totals["top1_chars"] += len(results[0].text) if results else 0
    return {name: value / len(judged) if judged else float("nan") for name, value in totals.items()}


def ask_all(queries: Sequence[Query], searcher: Searcher, mode: str) -> dict[str, Response]:
    """Every question's response in ``mode``, ``DEPTH`` clauses deep."""
    return {query.qid: searcher(query.text, DEPTH, mode) for query in queries}
