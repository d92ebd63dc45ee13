"""Normalise text and cut it into BM25 terms with jieba, using words taken from the corpus itself."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import jieba
import opencc

from corpus.models import Passage

jieba.setLogLevel(logging.WARNING)

# Bump when this module cuts the same text into other terms (index/clauses.py's ``indexed_version`` says why).
TOKENIZER_VERSION = "1"
_STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")
_ZONE = re.compile(r"(?<![各该本个])[\u4e00-\u9fff]{2,4}片区")
_QUOTED = re.compile(r"“([\u4e00-\u9fffA-Za-z0-9+]{2,8})”")
_TERM = re.compile(r"\w")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Frequency given to corpus words: high enough for jieba to keep them whole (钦州港片区).
_USER_WORD_FREQ = 2000


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    lines = _STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def tokenizer_version() -> str:
    """What decides the terms this module cuts: its own version, jieba's and OpenCC's, and the stop words."""
    stopwords = hashlib.sha256("\n".join(sorted(_stopwords())).encode()).hexdigest()[:12]
    return f"{TOKENIZER_VERSION}/jieba-{version('jieba')}/opencc-{version('opencc')}/stopwords-{stopwords}"


def _fold(text: str) -> str:
    return _t2s().convert(unicodedata.normalize("NFKC", text)).lower()


# Answering one question folds the question several times, and each candidate clause, which the next questions fold
# again: texts of a clause's length are kept (a fold costs about 10 µs); a notice's whole text, folded while
# indexing, is not.
MAX_CACHED_CHARS = 1000
_normalize_short = lru_cache(maxsize=8192)(_fold)


def normalize(text: str) -> str:
    """Fold full-width forms to half-width (NFKC), traditional to simplified Chinese, and case."""
    return _normalize_short(text) if len(text) <= MAX_CACHED_CHARS else _fold(text)


def has_chinese(text: str) -> bool:
    """True if ``text`` has at least one Chinese character."""
    return bool(_HAN.search(text))


def corpus_words(passages: Iterable[Passage]) -> list[str]:
    """Words that jieba should keep whole: zone names (钦州港片区) and quoted programme names (“证照分离”)."""
    words: set[str] = set()
    for passage in passages:
        text = normalize(passage.body)
        words.update(_ZONE.findall(text))
        words.update(_QUOTED.findall(passage.body))
    return sorted(normalize(word) for word in words)


class Tokenizer:
    """jieba's search-mode cut over normalised text, with corpus words added and stop words dropped."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self.user_words = sorted(set(user_words))
        self._jieba = jieba.Tokenizer()
        for word in self.user_words:
            self._jieba.add_word(word, freq=_USER_WORD_FREQ)

    def tokenize(self, text: str) -> list[str]:
        """The BM25 terms of ``text``, in order, repeats kept."""
        stopwords = _stopwords()
        return [
            token
            for token in (t.strip() for t in self._jieba.cut_for_search(normalize(text)))
            if token and token not in stopwords and _TERM.search(token)
        ]
