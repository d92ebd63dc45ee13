"""A long build is never silent: its embedding's progress is logged and told to whoever asks for the index."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from index import progress
from index.clauses import embed_clauses
from index.embedders import Embedder
from service.deps import get_index
from service.settings import Settings
from service.state import ServiceState


class Watching:
    """The session's embedder, noting what a reader of the service would be told between its batches."""

    def __init__(self, embedder: Embedder, state: ServiceState) -> None:
        self.inner, self.state = embedder, state
        self.id, self.dim = embedder.id, embedder.dim
        self.told: list[str] = []

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = []
        for start in range(0, len(texts), 16):
            vectors.append(self.inner.embed_passages(texts[start : start + 16]))
            assert progress is not None
            progress(len(vectors[-1]))
            with pytest.raises(Exception) as not_ready:
                asyncio.run(get_index(self.state))
            self.told.append(not_ready.value.message)
        return np.vstack(vectors)


def test_the_embedding_under_way_is_logged_and_told_to_requests_waiting_for_the_index(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)
    passages = load_corpus(DEFAULT_CORPUS_DIR).passages[:20]
    watching = Watching(embedder, ServiceState(Settings()))
    with caplog.at_level(logging.INFO, logger="policyqa.index"):
        vectors = embed_clauses(watching, passages, progress=False)  # type: ignore[arg-type]

    total = len(vectors.windows)
    assert watching.told[0].startswith(
        f"the index is still loading (being built: 16 of {total} clause windows embedded"
    )
    assert watching.told[-1] == (
        f"the index is still loading (being built: {total} of {total} clause windows embedded (100%)); retry shortly"
    )
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("building the index: ")]
    assert len(logged) == len(watching.told)
    assert progress.embedding_status() is None  # over: nothing is said to be under way
