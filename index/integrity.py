"""What a build wrote, recorded so that a load can tell a damaged index from a good one.

Each file of a build is listed in its manifest with its size and SHA-256; a load recomputes
them, then checks the counts the files must agree on (passages, vectors, token rows), so a
flipped byte, a dropped line or an edited passage is refused by name instead of served.
"""

from __future__ import annotations

import hashlib
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


def file_records(build: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of each named file of ``build``, for its manifest."""
    return {name: {"bytes": (build / name).stat().st_size, "sha256": sha256(build / name)} for name in names}


def verify_files(build: Path, records: dict[str, dict[str, Any]]) -> None:
    """Raise IndexCorruptError naming the first file that is missing or differs from what was recorded."""
    if not records:
        raise IndexCorruptError("the index manifest lists no files; rebuild it")
    for name, record in sorted(records.items()):
        path = build / name
        if not path.is_file():
            raise IndexCorruptError(f"index file {name} is missing; rebuild the index")
        if path.stat().st_size != record["bytes"] or sha256(path) != record["sha256"]:
            raise IndexCorruptError(f"index file {name} is not what the build wrote (damaged or edited); rebuild it")


def verify_counts(counts: dict[str, int]) -> None:
    """Raise IndexCorruptError unless every count (passages, vectors, token rows, …) is the same."""
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise IndexCorruptError(f"index files disagree on the number of passages ({listed}); rebuild the index")
