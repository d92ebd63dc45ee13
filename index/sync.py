"""Bring an index, on either backend, up to date with a corpus directory: the meaning of ``policyqa index``
and of POLICYQA_AUTO_BUILD."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.loader import load_corpus, notice_fingerprints, unsupported_files
from corpus.reader import NoticeFileError
from index.clauses import indexed_fingerprint
from index.contract import Index
from index.errors import IndexBuildError


@dataclass
class IndexReport:
    """What opening an index did: ``loaded`` it as it was (up to date, or not to be built), ``built`` (wrote the
    new and changed notices that are usable), or ``kept`` it as it was because no changed file is a usable notice;
    ``errors`` names each file left out (not a usable notice, or not a format policyqa reads)."""

    action: str
    seconds: float
    location: str  # the index directory, or the database
    errors: list[NoticeFileError] = field(default_factory=list)


def sync_index(
    index: Index,
    corpus_dir: Path,
    force: bool = False,
    prune: bool = True,
    progress: bool = False,
    strict: bool = False,
) -> tuple[str, list[NoticeFileError]]:
    """Ingest the notices of ``corpus_dir`` that are new or changed since ``index`` took them in (all of them
    with ``force``) and, with ``prune``, remove those whose files are gone, as one write; say what was done,
    and name every file left out.

    Only changed files are parsed. A bad file holds no good one back: the usable notices are written, and a
    notice whose changed file is not usable keeps the version indexed before. With ``strict``, any file left
    out means nothing is written (``kept``). Either way, when nothing can be written and the index holds
    nothing to serve: IndexBuildError.
    """
    on_disk = {doc_id: indexed_fingerprint(fp) for doc_id, fp in notice_fingerprints(corpus_dir).items()}
    held = index.fingerprints()
    changed = [doc_id for doc_id, fingerprint in on_disk.items() if force or held.get(doc_id) != fingerprint]
    gone = [doc_id for doc_id in held if doc_id not in on_disk] if prune else []
    rejected = unsupported_files(corpus_dir)
    corpus = load_corpus(corpus_dir, changed)
    rejected += corpus.errors
    if (not corpus.notices and not gone) or (strict and rejected):
        if not held and (changed or rejected):
            raise IndexBuildError(
                f"{corpus_dir}: not indexed, {len(rejected)} file(s) are not usable notices:", rejected
            )
        return ("kept" if changed else "loaded"), rejected
    index.ingest(corpus.notices, remove=gone, progress=progress)
    return "built", rejected
