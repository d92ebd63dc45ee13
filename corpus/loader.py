"""Read every notice in a corpus directory, keeping the good ones and naming the bad ones."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from corpus.models import Document, Passage
from corpus.parser import parse_notice
from corpus.reader import (
    NOTICE_SUFFIXES,
    SIDECAR_SUFFIX,
    NoticeFileError,
    notice_source_url,
    read_notice_text,
    source_url_file,
)

DEFAULT_CORPUS_DIR = Path(__file__).parent / "notices"
# Bump when parsing changes, so that indexes built by an older parser are rebuilt (index.clauses.indexed_version).
PARSER_VERSION = "18"


class CorpusError(ValueError):
    """The corpus directory itself is unusable (missing, or holding no notices)."""


@dataclass(frozen=True)
class Notice:
    """A parsed notice: its document record and its passages."""

    document: Document
    passages: list[Passage]
    # The file it was read from, as ``file_fingerprint`` hashes it; None for a notice made in code.
    fingerprint: str | None = None


@dataclass
class Corpus:
    """The notices of a directory that parsed, and an error for each file that did not."""

    notices: list[Notice] = field(default_factory=list)
    errors: list[NoticeFileError] = field(default_factory=list)

    @property
    def passages(self) -> list[Passage]:
        return [passage for notice in self.notices for passage in notice.passages]


def notice_files(corpus_dir: Path) -> list[Path]:
    """The notice files (``NOTICE_SUFFIXES``) in ``corpus_dir`` and its subfolders, sorted by document id;
    hidden files and folders (``.name``, such as uploads being staged) are not part of the corpus."""
    files = sorted((p for p in corpus_paths(corpus_dir) if p.suffix.lower() in NOTICE_SUFFIXES), key=str)
    if not files:
        raise CorpusError(f"{corpus_dir}: contains no notice files ({', '.join('*' + s for s in NOTICE_SUFFIXES)})")
    return files


def corpus_paths(corpus_dir: Path) -> list[Path]:
    """Every file of the corpus directory and its subfolders but hidden ones."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"{corpus_dir}: corpus directory does not exist")
    return [
        path
        for path in corpus_dir.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(corpus_dir).parts)
    ]


def unsupported_files(corpus_dir: Path) -> list[NoticeFileError]:
    """An error for each file in the corpus that is neither a notice nor a notice's source URL sidecar
    (.doc, .wps, .xls…), so that none is left out without a word."""
    return [
        NoticeFileError(path, f"is not in a format policyqa reads: save it as {', '.join(NOTICE_SUFFIXES)}")
        for path in sorted(corpus_paths(corpus_dir), key=str)
        if path.suffix.lower() not in NOTICE_SUFFIXES and not path.name.lower().endswith(SIDECAR_SUFFIX)
    ]


def doc_id_of(corpus_dir: Path, path: Path) -> str:
    """A notice file's document id: its path in the corpus without the suffix, folders joined by ``/``
    (``beijing/traffic-2020``), so that ids stay unique across folders; a file at the top is its stem."""
    return path.relative_to(corpus_dir).with_suffix("").as_posix()


def load_notice(path: Path, doc_id: str | None = None) -> Notice:
    """Read and parse one notice file as ``doc_id`` (default: the file's stem); raise NoticeFileError naming the
    file if it is not a usable notice."""
    text = read_notice_text(path)
    try:
        document, passages = parse_notice(doc_id or path.stem, text, path.name, notice_source_url(path))
    except Exception as exc:
        # A text the parser trips on (a first line that was only a 文号 once did) leaves this file out, named, and
        # not the library with it.
        raise NoticeFileError(path, f"could not be parsed ({type(exc).__name__}: {exc})") from exc
    if not passages:
        raise NoticeFileError(path, "has text but no clause could be found in it")
    return Notice(document, passages, file_fingerprint(path))


def load_corpus(corpus_dir: Path, doc_ids: Collection[str] | None = None) -> Corpus:
    """Parse every notice file in ``corpus_dir`` and its subfolders (or only those of ``doc_ids``, see ``doc_id_of``);
    a bad file is reported in ``errors``, never half-read."""
    corpus = Corpus()
    seen: dict[str, Path] = {}
    for path in notice_files(corpus_dir):
        doc_id = doc_id_of(corpus_dir, path)
        if doc_ids is not None and doc_id not in doc_ids:
            continue
        if doc_id in seen:
            corpus.errors.append(NoticeFileError(path, f"has the same document id as {seen[doc_id].name}"))
            continue
        try:
            corpus.notices.append(load_notice(path, doc_id))
            seen[doc_id] = path
        except NoticeFileError as exc:
            corpus.errors.append(exc)
    return corpus


def file_fingerprint(path: Path) -> str:
    """A hash of a notice file's name and bytes, and its source URL sidecar's: equal hashes, read by the same parser,
    give the same notice."""
    digest = hashlib.sha256(f"{path.name}\0".encode())
    digest.update(path.read_bytes())
    if (sidecar := source_url_file(path)).is_file():
        digest.update(b"\0" + sidecar.read_bytes())
    return digest.hexdigest()


def notice_fingerprints(corpus_dir: Path) -> dict[str, str]:
    """Each notice file's ``file_fingerprint``, by document id, without parsing: what an index compares
    with what it holds to see which notices changed. A stem given twice gets a fingerprint no one file
    has, so that it is loaded, and the clash reported."""
    fingerprints: dict[str, str] = {}
    for path in notice_files(corpus_dir):
        doc_id = doc_id_of(corpus_dir, path)
        fingerprint = file_fingerprint(path)
        if doc_id in fingerprints:
            fingerprint = hashlib.sha256((fingerprints[doc_id] + fingerprint).encode()).hexdigest()
        fingerprints[doc_id] = fingerprint
    return fingerprints
