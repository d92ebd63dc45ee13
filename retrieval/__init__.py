"""Rank a store's clauses for a question: the one ``Retriever`` above every store, its settings and its rerankers.

Data flows one way: corpus/ (notices into clauses) → index/ (stores: what is indexed, read as snapshots)
→ retrieval/ (ranking) → service/ (HTTP, CLI), with eval/ beside them.
"""

from retrieval.answerability import Evidence, Thresholds
from retrieval.config import RankingConfig
from retrieval.rerankers import RERANKER_KINDS, CrossEncoderReranker, Reranker, make_reranker
from retrieval.results import MODES, Hit, Retrieval, RetrievalRequest
from retrieval.retriever import Retriever

__all__ = [
    "MODES",
    "RERANKER_KINDS",
    "CrossEncoderReranker",
    "Evidence",
    "Hit",
    "RankingConfig",
    "Reranker",
    "Retrieval",
    "RetrievalRequest",
    "Retriever",
    "Thresholds",
    "make_reranker",
]
