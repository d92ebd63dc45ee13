"""The reranking stage: how a reranker's scores combine with the first stage's, and a real sentence-transformers
CrossEncoder (a tiny BERT made in the test) serving over HTTP, selected by POLICYQA_RERANKER."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from index import DirectoryIndex
from index.clauses import lexical_text
from index.embedders import Embedder
from retrieval import RankingConfig, RetrievalRequest, Retriever, Thresholds, make_reranker
from retrieval.rerankers import parse_reranker
from service.settings import Settings
from tests.commands import POLICYQA
from tests.conftest import LiveServer, open_notices
from tests.tiny_models import tiny_bert

QUESTION = "融资租赁公司能收外币租金吗"


def length_probability(text: str) -> float:
    """LengthReranker's score: longer clauses nearer 1."""
    return len(text) / (len(text) + 100)


class LengthReranker:
    """Prefers longer clauses: a reranker whose every score (a probability) a test can compute by hand."""

    id = "test/length"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        self.calls.append((query, list(passages)))
        return np.array([length_probability(passage) for passage in passages], dtype=np.float32)


def test_reranked_scores_are_the_first_stage_scaled_plus_the_rerankers_share(default_index: DirectoryIndex) -> None:
    config = RankingConfig(rerank_depth=8, rerank_weight=0.4, rerank_scope="all")
    reranker = LengthReranker()
    retriever = Retriever(default_index, config, reranker)
    first = retriever.search(RetrievalRequest(QUESTION, top_k=30, rerank=False))
    reranked = retriever.search(RetrievalRequest(QUESTION, top_k=30))

    head = first.hits[:8]
    ((query, texts),) = reranker.calls
    assert query == QUESTION and texts == [lexical_text(hit.passage) for hit in head]  # the best 8, in order
    probabilities = np.array([length_probability(text) for text in texts], dtype=np.float32)
    best = first.hits[0].score
    expected = {hit.passage.passage_id: 0.6 * hit.score / best for hit in first.hits}
    for hit, value in zip(head, probabilities, strict=True):
        expected[hit.passage.passage_id] += 0.4 * value

    got = {hit.passage.passage_id: hit.score for hit in reranked.hits}
    assert got == pytest.approx({key: expected[key] for key in got})
    assert [hit.score for hit in reranked.hits] == sorted(got.values(), reverse=True)
    for hit in reranked.hits:
        assert hit.score == pytest.approx(sum(hit.scores.values()))
        assert ("rerank" in hit.scores) == (hit.passage.passage_id in {h.passage.passage_id for h in head})
    # Below the reranked head the first stage's order holds, and no clause of it overtakes the head.
    tail = [hit.passage.passage_id for hit in reranked.hits if "rerank" not in hit.scores]
    assert tail == [hit.passage.passage_id for hit in first.hits[8:]]
    assert [hit.rank for hit in reranked.hits] == list(range(1, 31))
    # A reranker without a threshold leaves answerability to the legs' evidence, and adds its best score to it.
    assert reranked.answerable == first.answerable
    assert reranked.evidence == first.evidence._replace(rerank_top=probabilities.max())


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_a_reranker_reads_the_one_legs_candidates_in_a_single_leg_mode(
    default_index: DirectoryIndex, mode: str
) -> None:
    config = RankingConfig(rerank_depth=5, rerank_weight=1.0, rerank_scope="all")
    retriever = Retriever(default_index, config, LengthReranker())
    hits = retriever.search(RetrievalRequest(QUESTION, top_k=5, mode=mode)).hits
    assert set(hits[0].scores) == {mode, "rerank"}
    # The weight is all the reranker's: its probability is the whole score.
    assert hits[0].scores[mode] == 0.0
    assert hits[0].scores["rerank"] == pytest.approx(length_probability(lexical_text(hits[0].passage)))
    lengths = [len(lexical_text(hit.passage)) for hit in hits if hit.scores.get("rerank", 0) > 0]
    assert len(lengths) >= 4 and lengths == sorted(lengths, reverse=True)


def test_in_notice_scope_the_best_notices_clauses_trade_places_and_no_other_moves(
    tmp_path: Path, embedder: Embedder
) -> None:
    notices = {
        "a-tax": "关于出口退税的通知\n一、出口退税容缺办理，企业可先办理退税。\n二、出口退税申报期限延长至6月底，逾期可补报出口退税，补报须附说明材料。\n"
        "三、出口退税实行无纸化申报。\n四、出口企业可预约办理出口退税，税务机关提供上门辅导和政策解读服务。\n",
        "b-tax": "关于退税服务的公告\n一、出口退税容缺办理。\n二、出口退税可网上办理，全程无纸化，企业足不出户即可完成申报。\n",
    }
    index = open_notices(notices, tmp_path, embedder)
    question = "出口退税怎么办理"
    reranker = LengthReranker()
    retriever = Retriever(index, RankingConfig(rerank_depth=3, rerank_weight=0.6), reranker)
    first = retriever.search(RetrievalRequest(question, top_k=6, rerank=False)).hits
    reranked = retriever.search(RetrievalRequest(question, top_k=6)).hits

    top_notice = first[0].passage.doc_id
    head = [hit for hit in first if hit.passage.doc_id == top_notice][:3]
    ((_, texts),) = reranker.calls
    assert texts == [lexical_text(hit.passage) for hit in head]  # the best notice's best 3, in order
    best = max(hit.score for hit in head)
    new = [0.4 * hit.score / best + 0.6 * length_probability(text) for hit, text in zip(head, texts, strict=True)]
    head_order = [head[i].passage.passage_id for i in np.argsort(new)[::-1]]
    places = [i for i, hit in enumerate(first) if hit in head]
    assert [reranked[i].passage.passage_id for i in places] == head_order  # in the places the head held
    assert [reranked[i].score for i in places] == pytest.approx([first[i].score for i in places])
    others = [i for i in range(len(first)) if i not in places]
    assert [(reranked[i].passage.passage_id, reranked[i].score) for i in others] == [
        (first[i].passage.passage_id, first[i].score) for i in others
    ]  # no other notice's clause moves
    assert reranked[0].passage.doc_id == top_notice
    for hit in reranked:
        assert hit.score == pytest.approx(sum(hit.scores.values()))


def test_with_no_weight_the_reranker_changes_no_order(default_index: DirectoryIndex) -> None:
    plain = Retriever(default_index).search(RetrievalRequest(QUESTION, top_k=10))
    weightless = Retriever(default_index, RankingConfig(rerank_weight=0.0), LengthReranker())
    reranked = weightless.search(RetrievalRequest(QUESTION, top_k=10))
    assert [h.passage.passage_id for h in reranked.hits] == [h.passage.passage_id for h in plain.hits]


def test_a_threshold_set_for_the_reranker_judges_answerable(
    default_index: DirectoryIndex,
) -> None:
    first = Retriever(default_index).search(RetrievalRequest(QUESTION, top_k=5))
    assert first.answerable and first.evidence.rerank_top is None
    strict = RankingConfig(rerank_depth=8, thresholds=Thresholds(min_rerank=0.999))
    retriever = Retriever(default_index, strict, LengthReranker())
    reranked = retriever.search(RetrievalRequest(QUESTION, top_k=5))
    longest = max(length_probability(lexical_text(hit.passage)) for hit in first.hits[:8])
    assert reranked.evidence.rerank_top == pytest.approx(longest) and longest < 0.999
    assert not reranked.answerable  # the first stage's evidence says answerable; the reranker's threshold decides
    # Asked not to rerank, the first stage's evidence judges again.
    assert retriever.search(RetrievalRequest(QUESTION, top_k=5, rerank=False)).answerable
    at_longest = RankingConfig(rerank_depth=8, thresholds=Thresholds(min_rerank=float(np.float32(longest))))
    assert Retriever(default_index, at_longest, LengthReranker()).search(RetrievalRequest(QUESTION)).answerable


def test_unknown_rerankers_and_ranking_settings_are_refused_by_name() -> None:
    assert make_reranker("none") is None and make_reranker(None) is None
    choices = "choose none or one of policyqa[:<model>], sentence-transformers:<model>"
    with pytest.raises(ValueError, match=re.escape(f"unknown reranker 'bge'; {choices}")):
        make_reranker("bge")
    with pytest.raises(ValueError, match=re.escape(f"unknown reranker 'sentence-transformers'; {choices}")):
        make_reranker("sentence-transformers")
    assert parse_reranker("policyqa") == ("policyqa", "")  # the shipped delta (tests/test_shipped_reranker.py)
    with pytest.raises(ValueError, match="rerank_weight must be between 0 and 1"):
        RankingConfig(rerank_weight=1.5)


def tiny_cross_encoder(path: Path) -> Path:
    """A sentence-transformers CrossEncoder made here: a one-layer BERT with a character vocabulary of the
    default notice and random weights, saved as a model directory (nothing is downloaded)."""
    pytest.importorskip("torch")
    from transformers import BertForSequenceClassification

    text = "".join(notice.document.text for notice in load_corpus(DEFAULT_CORPUS_DIR).notices) + QUESTION
    return tiny_bert(path, text, BertForSequenceClassification, 1, num_labels=1)


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_cross_encoder(tmp_path_factory.mktemp("reranker") / "tiny-cross-encoder")


@pytest.fixture(scope="module")
def reranking_server(default_index_dir: Path, cross_encoder: Path) -> Iterator[LiveServer]:
    settings = Settings(
        index_dir=default_index_dir, rate_limit=None, reranker=f"sentence-transformers:{cross_encoder}", rerank_depth=10
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


def test_a_sentence_transformers_cross_encoder_reranks_over_http(
    reranking_server: LiveServer, server: LiveServer, cross_encoder: Path, default_index: DirectoryIndex
) -> None:
    ready = httpx.get(f"{reranking_server.url}/readyz").json()
    assert ready["reranker"] == f"sentence-transformers/{cross_encoder}"

    body = {"query": QUESTION, "top_k": 15}
    reranked = httpx.post(f"{reranking_server.url}/v1/search", json=body).json()["results"]
    assert sum("rerank" in result["scores"] for result in reranked) == 10  # the depth
    for result in reranked:
        assert result["score"] == pytest.approx(sum(result["scores"].values()))
    reranker = make_reranker(f"sentence-transformers:{cross_encoder}")
    assert reranker is not None
    # Without the stage, the same server ranks as one with no reranker at all.
    first_stage = httpx.post(f"{reranking_server.url}/v1/search", json={**body, "rerank": False}).json()["results"]
    # The head, the first stage's best 10 (one notice), is put in the order of 0.7 of its own score (over the best)
    # and 0.3 of the reranker's probability, in the places it held.
    head = first_stage[:10]
    texts = [lexical_text(default_index.get_passage(result["passage_id"])) for result in head]
    raw = reranker.score(QUESTION, texts)
    assert ((raw >= 0) & (raw <= 1)).all() and np.ptp(raw) > 0
    new = [0.7 * r["score"] / head[0]["score"] + 0.3 * v for r, v in zip(head, raw, strict=True)]
    assert [r["passage_id"] for r in reranked[:10]] == [head[i]["passage_id"] for i in np.argsort(new)[::-1]]
    assert [r["score"] for r in reranked[:10]] == pytest.approx([r["score"] for r in head])
    plain = httpx.post(f"{server.url}/v1/search", json=body).json()["results"]
    assert [(r["passage_id"], r["scores"]) for r in first_stage] == [(r["passage_id"], r["scores"]) for r in plain]
    query = {"q": QUESTION, "top_k": 15, "rerank": "false"}
    assert httpx.get(f"{reranking_server.url}/v1/search", params=query).json()["results"] == first_stage


def test_an_unknown_reranker_is_named_by_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "POLICYQA_RERANKER": "bge-reranker", "POLICYQA_INDEX_DIR": str(tmp_path / "index")}
    result = subprocess.run([*POLICYQA, "search", "外币"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert (
        "policyqa: error: reranker: Value error, unknown reranker 'bge-reranker'; choose none or one of"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_the_sweep_reads_each_pair_once_whatever_the_settings(default_index: DirectoryIndex) -> None:
    from eval.rerank_sweep import RememberingReranker

    inner = LengthReranker()
    remembering = RememberingReranker(inner)
    assert remembering.id == inner.id
    shallow = Retriever(default_index, RankingConfig(rerank_depth=5), remembering).search(RetrievalRequest(QUESTION))
    deep = Retriever(default_index, RankingConfig(rerank_depth=10, rerank_weight=0.9), remembering)
    deeper = deep.search(RetrievalRequest(QUESTION))
    read = [passage for _, passages in inner.calls for passage in passages]
    assert len(read) == len(set(read)) == 10  # the second search read only the five it had not
    direct = Retriever(default_index, RankingConfig(rerank_depth=10, rerank_weight=0.9), LengthReranker())
    assert deeper.hits == direct.search(RetrievalRequest(QUESTION)).hits
    assert shallow.evidence.rerank_top <= deeper.evidence.rerank_top


def test_a_missing_delta_is_named_by_the_cli(tmp_path: Path, default_index_dir: Path) -> None:
    missing = tmp_path / "no-such-delta"
    env = {**os.environ, "POLICYQA_RERANKER": f"policyqa:{missing}", "POLICYQA_INDEX_DIR": str(default_index_dir)}
    result = subprocess.run([*POLICYQA, "search", "外币"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"{missing / 'delta.json'}: not a readable delta record" in result.stderr
    assert "Traceback" not in result.stderr
