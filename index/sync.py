"""Bring an index, on either backend, up to date with a corpus directory: the meaning of ``policyqa index``
and of POLICYQA_AUTO_BUILD."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.loader import load_corpus, notice_fingerprints
from corpus.reader import NoticeFileError
from index.clauses import indexed_fingerprint
from index.contract import Index
from index.errors import IndexBuildError


@dataclass
class IndexReport:
    """What opening an index did: ``loaded`` it as it was (up to date, or not to be built), ``built`` (wrote the
    changed notices), or ``kept`` it as it was because changed files are not usable notices (``errors``)."""

    action: str
    seconds: float
    location: str  # the index directory, or the database
    errors: list[NoticeFileError] = field(default_factory=list)


def sync_index(
    index: Index, corpus_dir: Path, force: bool = False, prune: bool = True, progress: bool = False
) -> tuple[str, list[NoticeFileError]]:
    """Ingest the notices of ``corpus_dir`` that are new or changed since ``index`` took them in (all of them
    with ``force``) and, with ``prune``, remove those whose files are gone, as one write; say what was done.

    Only changed files are parsed. If any of them is not a usable notice nothing is written (``kept``,
    with the errors), or, when the index holds nothing to serve, IndexBuildError.
    """
    on_disk = {doc_id: indexed_fingerprint(fp) for doc_id, fp in notice_fingerprints(corpus_dir).items()}
    held = index.fingerprints()
    changed = [doc_id for doc_id, fingerprint in on_disk.items() if force or held.get(doc_id) != fingerprint]
    gone = [doc_id for doc_id in held if doc_id not in on_disk] if prune else []
    if not changed and not gone:
        return "loaded", []
    corpus = load_corpus(corpus_dir, changed)
    if corpus.errors:
        if held:
            return "kept", corpus.errors
        raise IndexBuildError(
            f"{corpus_dir}: not indexed, {len(corpus.errors)} file(s) are not usable notices:", corpus.errors
        )
    index.ingest(corpus.notices, remove=gone, progress=progress)
    return "built", []
