"""The question log: one JSON line for each search (its question, whether the notices may not answer it, its top
result) and for each piece of feedback on an answer, appended to ``questions.jsonl`` and rotated by size. It is what
``policyqa report`` reads. Nothing of the asker is kept: no address, no user agent, no key."""

from __future__ import annotations

import datetime
import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any

from service.schemas import FeedbackRequest, SearchRequest, SearchResponse

LOG_NAME = "questions.jsonl"
_LOCK_NAME = "questions.lock"


class QuestionLog:
    """Appends records to ``directory/questions.jsonl``; past ``max_bytes`` the file becomes ``questions.jsonl.1``
    (and so on, ``backups`` of them kept). Safe for the server's threads and for several processes sharing the
    directory."""

    def __init__(self, directory: Path, max_bytes: int, backups: int) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(
                f"cannot keep the question log in {directory} (POLICYQA_QUESTION_LOG_DIR): {exc.strerror}"
            ) from exc
        self._handler = _SharedRotatingFileHandler(directory, max_bytes, backups)

    def search(self, request: SearchRequest, response: SearchResponse) -> None:
        """Record a search: its question (and the question searched, for a follow-up completed from the
        conversation), how it was asked, whether it was answerable, and its top result."""
        top = response.results[0] if response.results else None
        self._write(
            {
                "kind": "search",
                "request_id": response.request_id,
                "question": request.query,
                "resolved_query": response.resolved_query,
                "mode": request.mode,
                "filters": request.filters.model_dump(exclude_none=True) if request.filters else {},
                "answerable": response.answerable,
                "top": {"doc_id": top.doc_id, "passage_id": top.passage_id, "citation": top.citation} if top else None,
            }
        )

    def feedback(self, feedback: FeedbackRequest) -> None:
        """Record whether the answer to a search helped."""
        self._write(
            {
                "kind": "feedback",
                "request_id": feedback.request_id,
                "helpful": feedback.helpful,
                "comment": feedback.comment,
            }
        )

    def close(self) -> None:
        self._handler.close()

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps({"time": utc_now().isoformat(timespec="milliseconds"), **record}, ensure_ascii=False)
        self._handler.handle(logging.makeLogRecord({"msg": line}))


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class _SharedRotatingFileHandler(RotatingFileHandler):
    """The standard library's size-rotated file, made safe for several processes: each write and each rollover is
    done holding an exclusive lock on a file beside the log, and a process whose file another process rotated away
    reopens the current one before writing. (The handler's own lock already serialises a process's threads.)"""

    def __init__(self, directory: Path, max_bytes: int, backups: int) -> None:
        super().__init__(directory / LOG_NAME, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        self._lock_path = directory / _LOCK_NAME
        self._lock_file: IO[bytes] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._lock_file is None:
                self._lock_file = open(self._lock_path, "ab")  # noqa: SIM115 (held open for the handler's life)
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                if self.stream is not None and _rotated_away(self.baseFilename, self.stream):
                    self.stream.close()
                    self.stream = None  # reopened on the current file by the rollover check
                super().emit(record)
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        except Exception:
            self.handleError(record)

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Whether this line would take the file past ``maxBytes``: counted in bytes (the standard library counts
        characters, a third of a Chinese line's bytes). A file holding nothing yet is never rotated."""
        if self.stream is None:
            self.stream = self._open()
        size = self.stream.seek(0, os.SEEK_END)
        return size > 0 and size + len(f"{self.format(record)}\n".encode()) > self.maxBytes

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # Handler.createLock made it
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None
        super().close()


def _rotated_away(path: str, stream: IO[str]) -> bool:
    """Whether ``stream`` is no longer the file at ``path`` (another process rotated it)."""
    try:
        return os.stat(path).st_ino != os.fstat(stream.fileno()).st_ino
    except FileNotFoundError:
        return True


def log_files(directory: Path) -> list[Path]:
    """The log's files in ``directory``, oldest first: ``questions.jsonl.N`` … ``.1``, then ``questions.jsonl``."""
    rotated = [path for path in directory.glob(f"{LOG_NAME}.*") if path.suffix[1:].isdigit()]
    rotated.sort(key=lambda path: int(path.suffix[1:]), reverse=True)
    current = directory / LOG_NAME
    return rotated + ([current] if current.is_file() else [])


def read_records(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every record in these files, in order; a line that is not a whole record (one being written) is skipped."""
    for path in paths:
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        yield record
        except FileNotFoundError:  # deleted by a rotation since it was listed
            continue
