"""Read notices and split them into clause-level passages that follow their own numbering."""

from corpus.loader import DEFAULT_CORPUS_DIR, Corpus, CorpusError, Notice, load_corpus, load_notice, notice_fingerprints
from corpus.models import Document, Passage
from corpus.reader import NoticeFileError

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "Corpus",
    "CorpusError",
    "Document",
    "Notice",
    "NoticeFileError",
    "Passage",
    "load_corpus",
    "load_notice",
    "notice_fingerprints",
]
