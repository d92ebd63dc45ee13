"""Keep every vector an embedder has made on disk, so that a rebuild embeds only new text.

A build interrupted midway (a GPU job pre-empted, a laptop closed) resumes where it
stopped, and adding one notice to a large corpus embeds that notice alone. Vectors are
keyed by the embedder's id and a hash of the text; each batch is written as its own
``.npz`` file, complete or not at all, with a checksum of its vectors tied to its texts'
keys and to the embedder's id. A batch that fails it (damaged on disk, altered, or copied
from another model's cache) is named in the log, deleted, and its texts embedded again.

A writer holds the directory's lock shared while it writes a batch; each embedding run
first takes it exclusively, if it is free, and deletes the half-written batches (``*.tmp``)
of writers that were killed. A lock rather than a process id: the kernel releases it
whenever its holder dies, a reused pid cannot keep a dead writer's file alive, and it holds
across processes in other pid namespaces (containers) sharing the directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from index.embedders import Embedder

_BATCH = 64

log = logging.getLogger("policyqa.index")


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _checksum(embedder_id: str, keys: list[str], vectors: np.ndarray) -> str:
    """What a batch's vectors hash to, with the embedder that made them and their texts' keys, row for row."""
    digest = hashlib.sha256(f"{embedder_id}\n{','.join(keys)}\n".encode())
    digest.update(np.ascontiguousarray(vectors, dtype="<f4").tobytes())
    return digest.hexdigest()


class CachedEmbedder:
    """An embedder whose passage vectors are read from, and written to, a directory of batches.

    Query vectors are not cached here (the search path keeps its own in-memory cache).
    """

    def __init__(self, inner: Embedder, root: Path) -> None:
        self.inner = inner
        self.id, self.dim = inner.id, inner.dim
        self.directory = root / hashlib.sha1(inner.id.encode(), usedforsecurity=False).hexdigest()[:16]
        self._vectors: dict[str, np.ndarray] | None = None

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for ``texts``: cached ones read back, the rest embedded in batches that are saved as they finish."""
        self._delete_abandoned()
        cached = self._load()
        keys = [_key(text) for text in texts]
        uses = Counter(keys)
        text_of = dict(zip(keys, texts, strict=True))
        missing = [key for key in uses if key not in cached]
        if progress is not None:
            progress(len(keys) - sum(uses[key] for key in missing))
        for start in range(0, len(missing), _BATCH):
            batch = missing[start : start + _BATCH]
            vectors = self.inner.embed_passages([text_of[key] for key in batch])
            self._save_batch(batch, vectors)
            cached.update(zip(batch, vectors, strict=True))
            if progress is not None:
                progress(sum(uses[key] for key in batch))
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([cached[key] for key in keys]).astype(np.float32)

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            for batch in sorted(self.directory.glob("*.npz")):
                self._vectors.update(self._read_batch(batch))
        return self._vectors

    def _read_batch(self, batch: Path) -> dict[str, np.ndarray]:
        """The batch's vectors by key; none, and the file deleted, if it is damaged or fails its checksum."""
        try:
            with np.load(batch) as data:
                if "checksum" not in data:
                    raise ValueError("it has no checksum: an earlier version wrote it")
                keys, vectors, checksum = data["keys"].tolist(), data["vectors"], str(data["checksum"])
            if vectors.shape != (len(keys), self.dim):
                raise ValueError(f"{vectors.shape} vectors for {len(keys)} keys of dimension {self.dim}")
            if checksum != _checksum(self.id, keys, vectors):
                raise ValueError(f"its vectors are not the ones {self.id} made for its texts")
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            log.warning(
                "embedding cache batch %s is damaged (%s); deleted, its texts will be embedded again", batch, exc
            )
            batch.unlink(missing_ok=True)
            return {}
        return dict(zip(keys, vectors, strict=True))

    def _save_batch(self, keys: list[str], vectors: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        checksum = _checksum(self.id, keys, vectors)
        with self._lock() as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)  # until the batch has its name: its temporary is live
            handle, temporary = tempfile.mkstemp(suffix=".tmp", dir=self.directory)
            with os.fdopen(handle, "wb") as out:
                np.savez(out, keys=np.array(keys), vectors=vectors, checksum=np.array(checksum))
            os.replace(temporary, self.directory / f"{keys[0]}-{len(keys)}.npz")

    def _delete_abandoned(self) -> None:
        """Delete the half-written batches of killed writers: with the lock held exclusively, no temporary is live."""
        if not self.directory.is_dir():
            return
        with self._lock() as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a batch is being written now; the next run deletes what is left
            for temporary in self.directory.glob("*.tmp"):
                temporary.unlink(missing_ok=True)

    def _lock(self) -> IO[bytes]:
        """The directory's lock file, opened; a lock taken on it is released when it is closed, or its holder dies."""
        return (self.directory / ".lock").open("ab")
