"""Pick the sentence of a passage that best answers a question."""

from __future__ import annotations

import re
from collections.abc import Callable

_SENTENCE = re.compile(r"[^。；;！!？?\n]+(?:[。；;！!？?]|$)")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with its closing punctuation."""
    return [match.group().strip() for match in _SENTENCE.finditer(text) if match.group().strip()]


def best_sentence(
    text: str, query_terms: set[str], tokenize: Callable[[str], list[str]], weight: Callable[[str], float]
) -> str:
    """The sentence of ``text`` whose terms shared with the question weigh most (by BM25 idf).

    A passage that shares no term with the question (found by meaning alone) is
    represented by its first sentence after the lead phrase.
    """
    candidates = sentences(text)
    if not candidates:
        return text
    scores = [sum(weight(term) for term in query_terms & set(tokenize(sentence))) for sentence in candidates]
    best = max(range(len(candidates)), key=lambda i: scores[i])
    if scores[best] > 0:
        return candidates[best]
    return candidates[1] if len(candidates) > 1 and len(candidates[0]) <= 40 else candidates[0]
