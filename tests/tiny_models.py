"""Tiny BERT models made in the tests, standing in for real ones: nothing is downloaded, and CI never trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_bert(path: Path, text: str, model_class: Any, layers: int, **config: Any) -> Path:
    """Save a ``model_class`` BERT of ``layers`` small layers, seeded, with a fast tokenizer whose vocabulary is the
    characters of ``text``, to ``path``."""
    import torch
    from transformers import BertConfig, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({ch for ch in text if not ch.isspace()})]
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    torch.manual_seed(0)
    settings = dict(hidden_size=32, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=64) | config
    model_class(BertConfig(vocab_size=len(vocab), **settings)).save_pretrained(path)
    tokenizer = BertTokenizerFast(vocab=str(path / "vocab.txt"))  # vocab_file= is ignored by transformers 5
    assert tokenizer.convert_tokens_to_ids(vocab[-1]) != tokenizer.unk_token_id
    tokenizer.save_pretrained(path)
    return path
