"""Pick the sentence of a passage that best answers a question."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_SENTENCE = re.compile(r"[^。；;！!？?\n]+(?:[。；;！!？?]|$)")

SentenceTerms = Sequence[tuple[str, frozenset[str]]]


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with its closing punctuation."""
    return [match.group().strip() for match in _SENTENCE.finditer(text) if match.group().strip()]


def sentence_terms(text: str, tokenize: Callable[[str], list[str]]) -> SentenceTerms:
    """Each sentence of ``text`` with its set of terms: what ``best_sentence`` compares a question with."""
    return tuple((sentence, frozenset(tokenize(sentence))) for sentence in sentences(text))


def best_sentence(candidates: SentenceTerms, query_terms: set[str], weight: Callable[[str], float]) -> str:
    """The sentence whose terms shared with the question weigh most (by BM25 idf).

    A passage that shares no term with the question (found by meaning alone) is
    represented by its first sentence after the lead phrase.
    """
    scores = [sum(weight(term) for term in query_terms & terms) for _, terms in candidates]
    best = max(range(len(candidates)), key=lambda i: scores[i])
    if scores[best] > 0:
        return candidates[best][0]
    first = candidates[0][0]
    return candidates[1][0] if len(candidates) > 1 and len(first) <= 40 else first
