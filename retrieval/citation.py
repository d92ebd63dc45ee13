"""A question that names the notice it asks about: by its 文号 (财税〔2020〕8号, 财政部 税务总局公告2020年第8号) or by
its title in 《》. A reader who names a notice wants its clauses, not another notice's that words them alike."""

from __future__ import annotations

import re

from corpus.models import Passage
from index.tokenizer import normalize

# What a citation may write differently from the notice: spaces, the separators between issuers, the brackets of
# a year (〔2020〕, [2020], 【2020】, (2020)), quotation marks and the brackets of a title inside a title.
_NOISE = re.compile(r"[\s、，,·“”\"'‘’「」《》〈〉]")
_OPENING = re.compile(r"[\[【(（]")
_CLOSING = re.compile(r"[\]】)）]")
_TITLE = re.compile(r"《([^《》]+)》")
# A number without its year (an order's 第1号) is part of too many others (公告2020年第1号) to name a notice.
_YEAR = re.compile(r"\d{4}")
# A title shorter than this (《通知》) names no notice in particular.
MIN_TITLE_CHARS = 6
# A cited title and a notice's, each from its 关于 on, may differ by a prefix or a suffix (的通知), not by more than
# this share.
MIN_TITLE_OVERLAP = 0.6


def _key(text: str) -> str:
    """``text`` as citations of one notice all write it."""
    text = _NOISE.sub("", normalize(text))
    return _CLOSING.sub("〕", _OPENING.sub("〔", text))


class Citation:
    """The notices a question names, read once: ``cites(passage)`` tells whether it names the passage's notice."""

    def __init__(self, question: str) -> None:
        self._question = _key(question)
        self._titles = [key for title in _TITLE.findall(question) if len(key := _key(title)) >= MIN_TITLE_CHARS]

    @property
    def names_a_notice(self) -> bool:
        """Whether the question could name a notice at all: a title in 《》 or a 号."""
        return bool(self._titles) or "号" in self._question

    def cites(self, passage: Passage) -> bool:
        """Whether the question names the notice of ``passage``, by its 文号 or its title."""
        number = passage.identity.number
        if number and _YEAR.search(number) and _key(number) in self._question:
            return True
        title = _key(passage.doc_title)
        return any(_same_title(cited, title) for cited in self._titles)


def _same_title(cited: str, title: str) -> bool:
    """Whether one title holds the other, from 关于 on where both have it: a citation often leaves the issuer out."""
    shorter, longer = sorted((_subject(cited), _subject(title)), key=len)
    return shorter in longer and len(shorter) >= MIN_TITLE_OVERLAP * len(longer)


def _subject(title: str) -> str:
    """What a title says from its 关于 on (关于减免中小企业房租的通知), or all of it."""
    return title[start:] if (start := title.find("关于")) >= 0 else title
