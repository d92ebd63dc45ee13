"""The answer path: a question's ranked clauses, each with the sentence that answers it.

The HTTP API, the CLI and the evaluation harness all answer through ``answer_question``, so what
eval measures is what users get.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from index.backend import Hit
from index.contract import Index


@dataclass(frozen=True)
class AnsweredClause:
    """One ranked clause and its best sentence."""

    hit: Hit
    highlight: str


@dataclass(frozen=True)
class Answered:
    """A question's clauses, best first, whether the notices answer it at all, and how long it took."""

    clauses: list[AnsweredClause]
    answerable: bool
    took_ms: float


def answer_question(
    index: Index,
    query: str,
    top_k: int = 5,
    mode: str = "hybrid",
    doc_id: str | None = None,
    section: str | None = None,
) -> Answered:
    """Rank the clauses that answer ``query`` (``Index.search``) and attach each one's best sentence."""
    started = time.perf_counter()
    ranking = index.search(query, top_k, mode, doc_id=doc_id, section=section)
    clauses = [AnsweredClause(hit, index.highlight(hit.passage, query)) for hit in ranking.hits]
    return Answered(clauses, ranking.answerable, round((time.perf_counter() - started) * 1000, 2))
