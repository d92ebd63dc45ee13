"""What chit-chat reaches in a library: the dense evidence that everyday questions no notice answers
("西瓜怎么挑才甜") get from its clauses, which a question's own must clear to be answerable.

The more clauses a library holds, the closer its best one comes to any question, so no fixed dense threshold
serves both a one-notice plan and a 599-notice library: the default one flagged 14% of the team's off-topic
questions asked of the 599 NCP notices. The team's chit-chat questions (``chit_chat.txt``, none about policy, so
no library answers them) are asked of each version of the store once, and the level is the score that 9 in 10 of
them reach at most (README, *Evaluation*).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from index.embedders import Embedder
from index.tokenizer import normalize

QUESTIONS = Path(__file__).with_name("chit_chat.txt")
LEVEL_QUANTILE = 0.9


@cache
def chit_chat_questions() -> tuple[str, ...]:
    """The team's chit-chat questions, normalised as questions are before they are embedded."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return tuple(normalize(line) for line in lines if line.strip())


_vectors: dict[str, np.ndarray] = {}


def chit_chat_vectors(embedder: Embedder) -> np.ndarray:
    """The chit-chat questions embedded as queries by ``embedder``, once per model."""
    if (vectors := _vectors.get(embedder.id)) is None:
        vectors = _vectors[embedder.id] = embedder.embed_queries(list(chit_chat_questions()))
    return vectors


def chit_chat_level(dense_tops: Sequence[float]) -> float:
    """The dense evidence that ``LEVEL_QUANTILE`` of the chit-chat questions reach at most, from each one's best."""
    return float(np.quantile(np.asarray(dense_tops, dtype=np.float64), LEVEL_QUANTILE))


def nearest_chit_chat(embedder: Embedder, vector: np.ndarray) -> float:
    """The cosine of a question's ``vector`` (normalised, as queries are) to the nearest chit-chat question's."""
    return float((chit_chat_vectors(embedder) @ vector).max())
