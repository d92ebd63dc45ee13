"""Pick the sentences of a passage that best answer a question."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from corpus.sentences import sentence_spans

# Each full sentence of a text as its (start, end) in the text, with its set of terms.
SentenceTerms = Sequence[tuple[tuple[int, int], frozenset[str]]]
# A highlight goes on into the sentences after its best one until it says this much: a heading-like
# sentence that matches the question (五、实施交通检疫。) is followed by what it announces.
HIGHLIGHT_MIN_CHARS = 60


def sentence_terms(text: str, tokenize: Callable[[str], list[str]]) -> SentenceTerms:
    """Each full sentence of ``text`` with its set of terms: what ``best_sentence`` compares a question with."""
    return tuple(((start, end), frozenset(tokenize(text[start:end]))) for start, end in sentence_spans(text, False))


def best_sentence(text: str, candidates: SentenceTerms, query_terms: set[str], weight: Callable[[str], float]) -> str:
    """The sentence of ``text`` whose terms shared with the question weigh most (by BM25 idf), with the
    sentences after it up to ``HIGHLIGHT_MIN_CHARS``: a piece of ``text`` as it is.

    A passage that shares no term with the question (found by meaning alone) is
    represented by its first sentence after the lead phrase.
    """
    scores = [sum(weight(term) for term in query_terms & terms) for _, terms in candidates]
    best = max(range(len(candidates)), key=lambda i: scores[i])
    if scores[best] <= 0:
        first_start, first_end = candidates[0][0]
        best = 1 if len(candidates) > 1 and first_end - first_start <= 40 else 0
    (start, end), _ = candidates[best]
    for (_, following_end), _ in candidates[best + 1 :]:
        if end - start >= HIGHLIGHT_MIN_CHARS:
            break
        end = following_end
    return text[start:end]
