"""The corpus folder as a library that is edited in place: a notice file added (staged, checked, then put in
place whole), or a notice's files removed. What ``policyqa index`` reads is always what these leave behind."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

from corpus.loader import Notice, corpus_paths, doc_id_of, load_notice
from corpus.reader import NOTICE_SUFFIXES, NoticeFileError, is_web_url, source_url_file

# Uploads wait here, hidden from the corpus, until they have been read as notices.
STAGING_DIR = ".uploads"
MAX_NAME_CHARS = 200


class UploadNameError(ValueError):
    """A file name that cannot become a notice file of the corpus; the message says why."""


def upload_name(filename: str) -> str:
    """The name an uploaded file keeps in the corpus: its own name without any folders, checked to be a notice
    format and a plain visible file name."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    if not name or name.startswith("."):
        raise UploadNameError(f"file name {filename!r} is not a usable name for a notice file")
    if len(name) > MAX_NAME_CHARS:
        raise UploadNameError(f"file name has {len(name)} characters; at most {MAX_NAME_CHARS} are allowed")
    if PurePosixPath(name).suffix.lower() not in NOTICE_SUFFIXES:
        raise UploadNameError(f"{name}: not a notice format policyqa reads; send one of {', '.join(NOTICE_SUFFIXES)}")
    return name


def read_upload(corpus_dir: Path, name: str, data: bytes, source_url: str | None = None) -> tuple[Notice, Path]:
    """Stage ``data`` as the file ``name`` (with ``source_url`` in its sidecar) and read it as the notice it would
    be at the top of ``corpus_dir``; return the notice and the staged file for ``place``. NoticeFileError (named
    after ``name``) if it is not a usable notice, and then nothing is left behind."""
    if source_url is not None and not is_web_url(source_url):
        raise UploadNameError(f"source_url {source_url!r} is not an http(s) URL")
    staging = corpus_dir / STAGING_DIR
    staging.mkdir(exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=staging)) / name
    staged.write_bytes(data)
    if source_url is not None:
        source_url_file(staged).write_text(source_url + "\n", encoding="utf-8")
    try:
        notice = load_notice(staged, doc_id_of(corpus_dir, corpus_dir / name))
    except NoticeFileError as exc:
        discard(staged)
        raise NoticeFileError(name, exc.reason) from None
    return notice, staged


def place(corpus_dir: Path, staged: Path) -> Path:
    """Move a staged upload into ``corpus_dir``, replacing the files of any notice with the same id (the same
    name in another format too), and return where it is."""
    target = corpus_dir / staged.name
    for old in notice_files_of(corpus_dir, doc_id_of(corpus_dir, target)):
        remove_file(old)
    if source_url_file(staged).is_file():
        source_url_file(staged).replace(source_url_file(target))
    staged.replace(target)
    discard(staged)
    return target


def discard(staged: Path) -> None:
    """Remove a staged upload and its staging folder."""
    shutil.rmtree(staged.parent, ignore_errors=True)


def notice_files_of(corpus_dir: Path, doc_id: str) -> list[Path]:
    """The files in ``corpus_dir`` that are read as the notice ``doc_id`` (usually one)."""
    return [
        path
        for path in corpus_paths(corpus_dir)
        if path.suffix.lower() in NOTICE_SUFFIXES and doc_id_of(corpus_dir, path) == doc_id
    ]


def remove_file(path: Path) -> None:
    """Remove a notice file and its source URL sidecar."""
    path.unlink(missing_ok=True)
    source_url_file(path).unlink(missing_ok=True)
