"""The errors of building and loading an index, for both backends."""

from __future__ import annotations

from corpus.reader import NoticeFileError


class IndexMismatchError(RuntimeError):
    """A stored index that cannot be served as it is (other embedder, other format)."""


class IndexCorruptError(IndexMismatchError):
    """A stored index whose files are not what its build wrote (edited, truncated, flipped bytes, missing)."""


class IndexUnavailableError(RuntimeError):
    """The index cannot be read right now (its database is down or too slow); a later try may succeed."""


class IndexBuildError(RuntimeError):
    """The corpus could not be indexed and there is no earlier index to fall back on."""

    def __init__(self, message: str, errors: list[NoticeFileError]) -> None:
        super().__init__(message + "".join(f"\n  {error}" for error in errors))
        self.errors = errors
