"""Copies of one clause. National measures are republished by provinces, cities and news sites with the same
text; a reader wants such a clause once, told where else it stands."""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache

from corpus.models import Passage
from index.tokenizer import normalize

# Bodies shorter than this ("按照国家有关规定执行。") are shared by clauses that are not copies of one another.
MIN_COPY_CHARS = 30
# A republished clause often differs by a word, a date's form or the punctuation: two clauses whose texts match
# this closely are copies too.
NEAR_COPY_SIMILARITY = 0.9


def clause_text(passage: Passage) -> str:
    """The clause's body as its copies share it: normalised (full-width and traditional forms), without
    whitespace; its whole text where it has no body apart from its heading."""
    body = passage.body if passage.body.strip() else passage.text
    return "".join(normalize(body).split())


def copy_key(passage: Passage) -> str | None:
    """What the clause's copies share (``clause_text``), or None for a body too short to tell a copy by."""
    text = clause_text(passage)
    return text if len(text) >= MIN_COPY_CHARS else None


def near_copies(first: str, second: str) -> bool:
    """True when two copy keys match for ``NEAR_COPY_SIMILARITY`` of their characters (difflib's ratio): the same
    clause, lightly edited."""
    # Cheap necessary conditions first; a matcher indexes ``second`` as it is made, the costly part of most checks.
    # The ratio is 2M / (len(first) + len(second)) for M matched characters, so at most a tenth of all the characters
    # go unmatched: the longer text's surplus, and every character of one text that the other lacks altogether.
    most = NEAR_COPY_SIMILARITY * (len(first) + len(second)) / 2
    unmatched = len(first) + len(second) - 2 * most
    if min(len(first), len(second)) < most or len(_character_set(first) ^ _character_set(second)) > unmatched:
        return False
    # difflib's quick_ratio, from cached counts: the characters the two share, counted.
    if (_characters(first) & _characters(second)).total() < most:
        return False
    return SequenceMatcher(None, first, second, autojunk=False).ratio() >= NEAR_COPY_SIMILARITY


@lru_cache(maxsize=4096)
def _characters(text: str) -> Counter[str]:
    return Counter(text)


@lru_cache(maxsize=4096)
def _character_set(text: str) -> frozenset[str]:
    return frozenset(text)
