"""A corpus folder and its index edited together, one notice at a time (the admin API): a notice added or
removed is in both or in neither, so that ``policyqa index`` and the index never disagree about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.library import discard, notice_files_of, place, read_upload, remove_file
from corpus.loader import CorpusError, Notice, doc_id_of, file_fingerprint, notice_files
from index.clauses import indexed_fingerprint
from index.contract import Index

# How a notice's file stands to the index.
INDEXED = "indexed"  # the file's current version is what the index holds
CHANGED = "changed"  # the file differs from what the index holds (not synced yet, or not a usable notice)
NOT_INDEXED = "not indexed"  # the file is not in the index
NO_FILE = "no file"  # the index holds it, the corpus folder does not


@dataclass(frozen=True)
class NoticeStatus:
    """A notice of the corpus folder or of the index, and how the two stand."""

    doc_id: str
    file: str | None  # its path within the corpus folder
    status: str


def add_notice(index: Index, corpus_dir: Path, name: str, data: bytes, source_url: str | None = None) -> Notice:
    """Index the file ``name`` holding ``data`` and then put it at the top of ``corpus_dir``, replacing any notice
    of the same id (in any format). NoticeFileError if it is not a usable notice; on any failure neither the
    index nor the folder changes."""
    notice, staged = read_upload(corpus_dir, name, data, source_url)
    try:
        index.ingest([notice])
    except BaseException:
        discard(staged)
        raise
    place(corpus_dir, staged)
    return notice


def remove_notice(index: Index, corpus_dir: Path, doc_id: str) -> bool:
    """Drop the notice ``doc_id`` from the index, then its files from ``corpus_dir``; False if neither has it."""
    files = notice_files_of(corpus_dir, doc_id)
    held = doc_id in index.fingerprints()
    if held:
        index.remove([doc_id])
    for path in files:
        remove_file(path)
    return held or bool(files)


def library_status(index: Index, corpus_dir: Path) -> list[NoticeStatus]:
    """Every notice of the folder or the index, by doc id, with how its file stands to the index."""
    held = index.fingerprints()
    statuses: dict[str, NoticeStatus] = {}
    try:
        files = notice_files(corpus_dir)
    except CorpusError:  # a folder emptied of notices: the index may still hold some
        files = []
    for path in files:
        doc_id = doc_id_of(corpus_dir, path)
        if doc_id not in held:
            status = NOT_INDEXED
        elif held[doc_id] == indexed_fingerprint(file_fingerprint(path)):
            status = INDEXED
        else:
            status = CHANGED
        statuses[doc_id] = NoticeStatus(doc_id, path.relative_to(corpus_dir).as_posix(), status)
    for doc_id in held.keys() - statuses.keys():
        statuses[doc_id] = NoticeStatus(doc_id, None, NO_FILE)
    return sorted(statuses.values(), key=lambda notice: notice.doc_id)
