"""A process that writes embedding cache batches as fast as it can, as a concurrent build does.

``python -m tests.cache_writer DIR SECONDS`` embeds new texts through a ``CachedEmbedder`` on ``DIR`` for
``SECONDS``, then prints how many it embedded: the tests run it beside a clean-up that must not delete a batch
being written.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.embedding_cache import CachedEmbedder


class HashEmbedder:
    """Vectors made from each text's hash: as fast as an embedder can be, and the same in every process."""

    id = "hash/4"
    dim = 4

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        digests = b"".join(hashlib.sha256(text.encode()).digest()[: self.dim] for text in texts)
        return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), self.dim).astype(np.float32)


def write_batches(root: Path, seconds: float, batch: int = 64) -> int:
    """Embed new texts through the cache in ``root`` for ``seconds``; how many were embedded."""
    cache = CachedEmbedder(HashEmbedder(), root)
    written, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        cache.embed_passages([f"text {written + i}" for i in range(batch)])
        written += batch
    return written


if __name__ == "__main__":
    print(write_batches(Path(sys.argv[1]), float(sys.argv[2])))
