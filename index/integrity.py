"""What a build wrote, recorded so that a load can tell a damaged index from a good one.

Each file a build's format has is listed in its manifest with its size and SHA-256, and the manifest's own
SHA-256 is recorded beside it (``manifest.sha256``, as ``sha256sum`` writes it). A load checks the manifest
against its record, recomputes every file's checksum, then checks the counts the files must agree on
(passages, vectors, token rows), so a flipped byte, a dropped line, an edited passage or an edited manifest
is refused by name instead of served.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.errors import IndexCorruptError

_CHUNK = 1 << 20


def sha256(path: Path) -> str:
    """The file's SHA-256, read in chunks (vector files can be hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_records(build: Path, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of each named file of ``build``, for its manifest."""
    return {name: {"bytes": (build / name).stat().st_size, "sha256": sha256(build / name)} for name in names}


def verify_files(build: Path, names: Sequence[str], records: dict[str, dict[str, Any]]) -> None:
    """Raise IndexCorruptError naming the first of ``names``, the files the build's format has, that its manifest's
    ``records`` leave out, or that is missing or differs from its record."""
    for name in sorted(names):
        path = build / name
        if name not in records:
            raise IndexCorruptError(f"index file {name} is not recorded in the manifest; rebuild the index")
        if not path.is_file():
            raise _missing(name)
        record = records[name]
        if path.stat().st_size != record["bytes"] or sha256(path) != record["sha256"]:
            raise _damaged(name)


def seal_path(path: Path) -> Path:
    """Where ``path``'s own checksum is recorded: ``manifest.json``'s in ``manifest.sha256``."""
    return path.with_suffix(".sha256")


def seal(path: Path) -> None:
    """Record ``path``'s SHA-256 beside it, in the form ``sha256sum -c`` checks."""
    seal_path(path).write_text(f"{sha256(path)}  {path.name}\n", encoding="utf-8")


def read_sealed(path: Path) -> bytes:
    """``path``'s bytes, once they match the checksum recorded beside them (IndexCorruptError otherwise)."""
    try:
        data, recorded = path.read_bytes(), seal_path(path).read_bytes()
    except FileNotFoundError as exc:
        raise _missing(Path(str(exc.filename)).name) from None
    if recorded.split(maxsplit=1)[:1] != [hashlib.sha256(data).hexdigest().encode()]:
        raise _damaged(path.name)
    return data


def verify_counts(counts: dict[str, int]) -> None:
    """Raise IndexCorruptError unless every count (passages, vectors, token rows, …) is the same."""
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise IndexCorruptError(f"index files disagree on the number of passages ({listed}); rebuild the index")


def _missing(name: str) -> IndexCorruptError:
    return IndexCorruptError(f"index file {name} is missing; rebuild the index")


def _damaged(name: str) -> IndexCorruptError:
    return IndexCorruptError(f"index file {name} is not what the build wrote (damaged or edited); rebuild it")
