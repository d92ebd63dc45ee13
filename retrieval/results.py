"""The Retriever's one request type and one result type; the API, the CLI and eval map them to their own shapes."""

from __future__ import annotations

from typing import NamedTuple

from corpus.models import Passage
from index.contract import Filters
from retrieval.answerability import Evidence

MODES = ("hybrid", "bm25", "dense")


class RetrievalRequest(NamedTuple):
    """A question, how many clauses to return, which legs rank them, what to keep, whether to rerank, and the
    conversation's earlier questions (oldest first), against which an elliptical follow-up is resolved."""

    query: str
    top_k: int = 5
    mode: str = "hybrid"
    filters: Filters = Filters()
    rerank: bool = True  # with a reranker configured; False ranks as the first stage alone
    history: tuple[str, ...] = ()


class Hit(NamedTuple):
    """One ranked clause: its final score, each stage's part in it, the sentences that best answer, and its copies
    (clauses of the same text ranked below it, which are not hits of their own)."""

    rank: int
    passage: Passage
    score: float
    scores: dict[str, float]  # bm25, dense, notice, rerank: the parts that add up to ``score``
    highlight: str
    copies: tuple[Passage, ...] = ()


class Retrieval(NamedTuple):
    """The clauses that best answer a question, best first, whether the notices answer it at all, and the question
    searched: the one asked, or a follow-up completed from the earlier questions (retrieval/followup.py)."""

    hits: list[Hit]
    evidence: Evidence
    answerable: bool
    took_ms: float
    searched: str
    embed_ms: float = 0.0  # of ``took_ms``, embedding the question (about nothing when its vector was cached)
