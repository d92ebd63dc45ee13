"""The reranker's training: examples read from the training half only, copies of an answer never its negatives, a
loss that a constant score cannot lower; a few steps training a tiny BERT (made here) standing in for the e5 base,
and its small delta laid back over that base by PolicyReranker with the trained model's scores."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from corpus.loader import load_notice
from index import DirectoryIndex
from index.clauses import lexical_text
from index.embedders import Embedder
from reranker.halves import in_training_half
from retrieval import make_reranker
from service.settings import Settings
from tests.conftest import FIXTURES, LiveServer
from tests.tiny_models import tiny_bert
from training import examples
from training.examples import (
    Group,
    Question,
    TrainingHalfError,
    load_training_notices,
    mine_groups,
    split_by_notice,
)

torch = pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

from reranker.model import DELTA_RECORD, DELTA_WEIGHTS, DeltaError, PolicyReranker, load_base, predict  # noqa: E402
from training import train  # noqa: E402
from training.train import (  # noqa: E402
    TrainConfig,
    TrainResult,
    answerable_threshold,
    distillation_loss,
    evaluate,
    format_metrics,
    rank_and_judge_loss,
    run,
)

EXPORT, CHONGZUO, NANNING = (
    "export-tax-rebate-service",
    "chongzuo-border-trade-measures",
    "nanning-cross-border-ecommerce-gbk",
)
COPY = "export-tax-rebate-copy"  # the export notice republished, with a full-width digit and a space in one clause
QUESTIONS = [
    Question("f1", "出口退税一般多少天能办下来？", EXPORT, (f"{EXPORT}:p3",), "colloquial"),
    Question("f2", "资料还没备齐，能不能先申报出口退税", EXPORT, (f"{EXPORT}:p2",), "paraphrase"),
    Question("f3", "出口退税可以网上办吗，要不要跑办税服务厅", COPY, (f"{COPY}:p4",), "colloquial"),
    Question("f4", "落地加工企业的物流补贴每吨多少钱", CHONGZUO, (f"{CHONGZUO}:2.2.1",), "specific"),
    Question("f5", "边民互市贸易能在网上申报吗", CHONGZUO, (f"{CHONGZUO}:2.1.1",), "paraphrase"),
    Question("f6", "互市商品到哪里集中查验", CHONGZUO, (f"{CHONGZUO}:2.1.2",), "specific"),
    Question("f7", "明天天气怎么样", None, (), "off-topic-chat"),
    Question("f8", "护照快过期了去哪里换", None, (), "off-topic-chat"),
]
# Enough steps for the tiny base to learn the fixtures' questions, in seconds.
TINY_TRAINING = TrainConfig(epochs=20, batch_size=8, max_length=64, train_layers=2, negatives=3, seed=0, lr=1e-3)


def train_tiny(out: Path, notices_dir: Path, tiny_base: Path, embedder: Embedder, cache_dir: Path) -> TrainResult:
    """The fixtures' questions trained over the tiny base, delta saved in ``out`` (a tiny random model learns
    little from 8 questions: these tests check what is saved and served, not what is learnt)."""
    return run(
        QUESTIONS,
        notices_dir,
        out,
        TINY_TRAINING,
        base_dir=tiny_base,
        embedder=embedder,
        cache_dir=cache_dir,
        save_unlearnt=True,
    )


NANNING_QUESTION = Question("f9", "在东盟建海外仓有补助吗", NANNING, (f"{NANNING}:art4",), "specific")


@pytest.fixture(scope="module")
def notices_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture notices, and a copy of the export notice under another id; the Nanning one is outside the
    training half (its id's MD5 begins with c), the others inside."""
    directory = tmp_path_factory.mktemp("notices")
    for path in FIXTURES.iterdir():
        shutil.copy(path, directory / path.name)
    text = (FIXTURES / f"{EXPORT}.txt").read_text(encoding="utf-8")
    (directory / f"{COPY}.txt").write_text(text.replace("5个工作日", "５ 个工作日"), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory, notices_dir: Path) -> Path:
    """A 3-layer BERT with a character vocabulary and no pooler, saved as the base model is. Its random weights are
    drawn wide, so that its first scores already depend on the text."""
    from functools import partial

    from transformers import BertModel

    text = "".join(load_notice(p).document.text for p in sorted(notices_dir.iterdir()))
    text += "".join(question.question for question in [*QUESTIONS, NANNING_QUESTION])
    without_pooler = partial(BertModel, add_pooling_layer=False)
    path = tmp_path_factory.mktemp("cache-home") / "policyqa" / "models" / "tiny-base"  # as in a models cache
    return tiny_bert(path, text, without_pooler, 3, max_position_embeddings=128, initializer_range=0.2)


@pytest.mark.parametrize(
    ("question", "allowed", "refused"),
    [
        (NANNING_QUESTION, in_training_half, NANNING),
        (QUESTIONS[3], lambda doc_id: doc_id != CHONGZUO, CHONGZUO),  # a rule a test injects
    ],
)
def test_a_question_asked_of_a_refused_notice_is_refused_by_name_before_any_file_is_read(
    notices_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    question: Question,
    allowed: Callable[[str], bool],
    refused: str,
) -> None:
    read: list[Path] = []
    monkeypatch.setattr(examples, "load_notice", lambda path: read.append(path))
    with pytest.raises(TrainingHalfError, match=f"question {question.qid} .*{refused}.*outside the training half"):
        load_training_notices(notices_dir, [*QUESTIONS[:2], question], allowed)
    assert read == []


def test_a_notice_outside_the_training_half_is_never_opened(notices_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    def spy(path: Path) -> object:
        opened.append(path.stem)
        return load_notice(path)

    monkeypatch.setattr(examples, "load_notice", spy)
    notices = load_training_notices(notices_dir, QUESTIONS)
    assert sorted(opened) == sorted(notice.document.doc_id for notice in notices) == sorted([EXPORT, CHONGZUO, COPY])
    assert [n.document.doc_id for n in load_training_notices(notices_dir, QUESTIONS[:2], only_asked=True)] == [EXPORT]


@pytest.mark.slow
def test_copies_of_an_answer_are_relevant_never_negatives(
    notices_dir: Path, embedder: Embedder, cache_dir: Path
) -> None:
    notices = load_training_notices(notices_dir, QUESTIONS)
    groups = {group.qid: group for group in mine_groups(QUESTIONS, notices, embedder, cache_dir, depth=10)}
    by_id = {p.passage_id: p for notice in notices for p in notice.passages}

    asked = groups["f1"]
    assert asked.positives == (lexical_text(by_id[f"{EXPORT}:p3"]),)
    copy_of_answer = lexical_text(by_id[f"{COPY}:p3"])
    assert copy_of_answer != asked.positives[0]  # the copy differs as written, not once normalised
    assert copy_of_answer in asked.candidates and copy_of_answer not in asked.negatives
    for group in groups.values():
        assert len(group.candidates) == len(group.relevant) <= 10
        assert not set(group.negatives) & set(group.positives)
        assert len(group.negatives) == len(group.candidates) - sum(group.relevant)
    for qid in ("f7", "f8"):  # off-topic: every candidate is a negative
        assert groups[qid].positives == () and groups[qid].negatives == groups[qid].candidates
    outside = {lexical_text(p) for p in load_notice(FIXTURES / f"{NANNING}.txt").passages}
    assert not outside & {text for group in groups.values() for text in group.candidates}


def test_validation_holds_whole_notices_with_their_copies(notices_dir: Path) -> None:
    notices = load_training_notices(notices_dir, QUESTIONS)
    groups = [Group(q.qid, q.question, q.doc_id, ("answer",), ("answer", "other"), (True, False)) for q in QUESTIONS]
    for seed in range(4):
        split = split_by_notice(groups, notices, share=0.1, seed=seed)
        held = {group.doc_id for group in split.validation if group.doc_id}
        trained = {group.doc_id for group in split.train if group.doc_id}
        assert held and trained and not held & trained
        assert {EXPORT, COPY} <= held or {EXPORT, COPY} <= trained  # a notice and its copy stay together
        assert sorted(g.qid for g in split.train + split.validation) == [q.qid for q in QUESTIONS]


def test_the_loss_ranks_and_judges_and_a_constant_score_does_not_lower_it() -> None:
    # A question's positive and two negatives, then an off-topic question's two candidates.
    logits = torch.tensor([2.0, 0.0, -1.0, 0.5, -0.5])
    labels = torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0])
    listwise = -math.log(math.exp(2) / (math.exp(2) + math.exp(0) + math.exp(-1)))
    softplus = [math.log1p(math.exp(x)) for x in (-2.0, 0.0, -1.0, 0.5, -0.5)]
    judged = (4 * softplus[0] + sum(softplus[1:])) / 5  # the one positive weighs as much as the four negatives
    assert rank_and_judge_loss(logits, labels, [3, 2]).item() == pytest.approx(listwise + judged, rel=1e-5)
    constant = rank_and_judge_loss(torch.zeros(5), labels, [3, 2]).item()
    assert constant == pytest.approx(math.log(3) + 8 * math.log(2) / 5, rel=1e-5)


def test_distillation_pulls_a_groups_order_and_spacing_towards_the_teachers_not_its_level() -> None:
    teacher = torch.tensor([3.0, 1.0, 0.0, 2.0, -2.0])
    lists = [3, 2]
    # The student scores as the teacher does, 5 lower: nothing to learn.
    assert distillation_loss(teacher - 5, teacher, lists).item() == pytest.approx(0.0, abs=1e-6)
    student = torch.tensor([0.0, 1.0, 3.0, 0.0, 0.0])  # the first group reversed, the second flat
    kl = []
    for s, t in ((student[:3], teacher[:3]), (student[3:], teacher[3:])):
        p, q = torch.softmax(t, 0), torch.softmax(s, 0)
        kl.append(float((p * (p.log() - q.log())).sum()))
    assert distillation_loss(student, teacher, lists).item() == pytest.approx(sum(kl) / 2, rel=1e-5)
    assert distillation_loss(student, teacher, [1, 1, 1, 1, 1]).item() == 0.0  # a lone pair has no order


class FixedScores:
    """Stands in for a model: scores each pair by a table."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def predict(self, pairs: list[tuple[str, str]], **_: object) -> np.ndarray:
        return np.array([self.scores[text] for _, text in pairs], dtype=np.float32)


def test_the_check_measures_against_the_first_stage_and_flags_collapsed_scores() -> None:
    groups = [
        Group("a", "q1", "n", ("x",), ("y", "x", "z"), (False, True, False)),
        Group("b", "q2", "n", ("w",), ("v", "u"), (False, False)),  # the answer is not a candidate
        Group("c", "off", None, (), ("y", "v"), (False, False)),
    ]
    metrics = evaluate(FixedScores({"x": 0.9, "y": 0.4, "z": 0.1, "v": 0.3, "u": 0.2}), groups)
    assert (metrics.questions, metrics.off_topic) == (2, 1)
    assert metrics.mrr_first_stage == pytest.approx(0.25) and metrics.mrr_reranked == pytest.approx(0.5)
    assert (metrics.hit1_first_stage, metrics.hit1_reranked) == (0.0, 0.5)
    assert metrics.auroc == 0.5  # the off-topic question's best (0.4) is below one answerable's best (0.9) of two
    # The answerable questions' bests are 0.9 and 0.3: flagging at most 5% of two flags neither, so the threshold
    # is the lower, which the off-topic question's best (0.4) passes.
    assert metrics.threshold == pytest.approx(0.3) and metrics.off_topic_flagged == 0
    assert not metrics.collapsed
    # A random order of q1's three candidates finds its one answer at 1/3 · (1 + 1/2 + 1/3) on average; q2 counts 0.
    assert metrics.mrr_chance == pytest.approx(11 / 36) and metrics.learnt
    flat = evaluate(FixedScores(dict.fromkeys("xyzvu", 0.5)), groups)
    assert flat.collapsed and flat.spread == 0.0 and not flat.learnt
    # Scores that put the answer last are not collapsed, and no better than chance: nothing learnt.
    backwards = evaluate(FixedScores({"x": 0.1, "y": 0.9, "z": 0.5, "v": 0.3, "u": 0.2}), groups)
    assert not backwards.collapsed and backwards.mrr_reranked == pytest.approx(1 / 6) and not backwards.learnt
    assert "NOT LEARNT" in format_metrics(backwards) and "NOT LEARNT" not in format_metrics(metrics)


@pytest.mark.slow
def test_training_saves_a_small_delta_that_policy_reranker_lays_over_the_base(
    notices_dir: Path,
    tiny_base: Path,
    embedder: Embedder,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = train_tiny(tmp_path / "delta", notices_dir, tiny_base, embedder, cache_dir)
    assert result.delta_dir == tmp_path / "delta"
    assert not result.metrics.collapsed

    from safetensors.torch import load_file

    delta = load_file(str(result.delta_dir / DELTA_WEIGHTS))
    assert all(tensor.dtype == torch.float16 for tensor in delta.values())
    trained = {name.rsplit(".", 1)[0] for name in delta}
    assert {name.split(".")[3] for name in trained if ".layer." in name} == {"1", "2"}  # the top 2 layers
    assert {"bert.pooler.dense", "classifier"} <= trained  # and the head
    assert not any(name.startswith(("bert.embeddings", "bert.encoder.layer.0")) for name in delta)
    record = json.loads((result.delta_dir / DELTA_RECORD).read_text(encoding="utf-8"))
    settings = (record["base_model"], record["train_layers"], record["max_length"], record["seed"])
    assert settings == ("tiny-base", 2, 64, 0)
    assert len(record["data"]["sha256"]) == 64 and record["metrics"]["spread"] == result.metrics.spread
    size = (result.delta_dir / DELTA_WEIGHTS).stat().st_size
    assert size < 2 * sum(t.numel() for t in delta.values()) + 4096  # fp16, and nothing else of any size

    # Frozen weights are the base's, untouched.
    base = load_file(str(tiny_base / "model.safetensors"))
    model_weights = dict(result.model.model.named_parameters())
    assert torch.equal(
        model_weights["bert.encoder.layer.0.attention.self.query.weight"],
        base["encoder.layer.0.attention.self.query.weight"],
    )

    pairs = [(question.question, text) for question in QUESTIONS for text in ("出口退税办理时间", "边民互市贸易")]
    reranker = PolicyReranker(result.delta_dir, base_dir=tiny_base)
    scores = np.concatenate([reranker.score(q, [t for qq, t in pairs if qq == q]) for q in dict(pairs)])
    assert np.allclose(scores, predict(result.model, pairs), atol=1e-6)
    assert reranker.id == f"policyqa/{hashlib.sha256((result.delta_dir / DELTA_WEIGHTS).read_bytes()).hexdigest()[:16]}"
    assert reranker.score("问题", []).shape == (0,)
    assert reranker.record["answerable_threshold"] == result.metrics.threshold is not None

    quantized = PolicyReranker(result.delta_dir, base_dir=tiny_base, quantize=True)
    assert quantized.id == reranker.id + "+int8"
    assert np.allclose(
        quantized.score(QUESTIONS[0].question, ["出口退税办理时间", "边民互市贸易"]), scores[:2], atol=0.05
    )

    # The same seed trains the same weights; scores that count as collapsed save nothing.
    monkeypatch.setattr(train, "COLLAPSED_SPREAD", 1.0)
    again = train_tiny(tmp_path / "again", notices_dir, tiny_base, embedder, cache_dir)
    assert again.metrics == result.metrics and again.metrics.collapsed
    assert again.delta_dir is None and not (tmp_path / "again").exists()
    for name, parameter in again.model.model.named_parameters():
        assert torch.equal(parameter, model_weights[name]), name


def test_a_shallower_model_keeps_the_bases_first_layers_and_the_service_drops_the_same(
    notices_dir: Path, tiny_base: Path, embedder: Embedder, cache_dir: Path, tmp_path: Path
) -> None:
    config = dataclasses.replace(TINY_TRAINING, layers=2, train_layers=1)
    result = run(
        QUESTIONS,
        notices_dir,
        tmp_path,
        config,
        base_dir=tiny_base,
        embedder=embedder,
        cache_dir=cache_dir,
        save_unlearnt=True,
    )
    assert result.delta_dir == tmp_path and json.loads((tmp_path / DELTA_RECORD).read_text())["layers"] == 2

    from safetensors.torch import load_file

    trained_layers = {name.split(".")[3] for name in load_file(str(tmp_path / DELTA_WEIGHTS)) if ".layer." in name}
    assert trained_layers == {"1"}  # the top of the two kept, not the base's third
    reranker = PolicyReranker(tmp_path, base_dir=tiny_base)
    assert len(reranker.model.model.base_model.encoder.layer) == 2
    texts = ["出口退税办理时间", "边民互市贸易"]
    pairs = [(QUESTIONS[0].question, text) for text in texts]
    assert np.allclose(reranker.score(QUESTIONS[0].question, texts), predict(result.model, pairs), atol=1e-6)

    with pytest.raises(ValueError, match="layers must be between 1 and 3, got 4"):
        load_base(tiny_base, 64, layers=4)


class CountingTeacher:
    """A trained reranker as a teacher, recording every pair it was asked to score."""

    def __init__(self, reranker: PolicyReranker) -> None:
        self.reranker, self.asked = reranker, []

    @property
    def id(self) -> str:
        return self.reranker.id

    def score(self, query: str, passages: list[str]) -> np.ndarray:
        self.asked += [(query, passage) for passage in passages]
        return self.reranker.score(query, passages)


@pytest.mark.slow
def test_a_student_distils_a_deeper_teacher_from_its_scores_of_the_best_negatives_only(
    notices_dir: Path, tiny_base: Path, embedder: Embedder, cache_dir: Path, tmp_path: Path
) -> None:
    teacher_dir = train_tiny(tmp_path / "teacher", notices_dir, tiny_base, embedder, cache_dir).delta_dir
    assert teacher_dir is not None
    teacher = CountingTeacher(PolicyReranker(teacher_dir, base_dir=tiny_base))
    config = dataclasses.replace(TINY_TRAINING, layers=2, train_layers=1, negatives=2)
    kwargs = {"base_dir": tiny_base, "embedder": embedder, "cache_dir": cache_dir, "save_unlearnt": True}
    student = run(QUESTIONS, notices_dir, tmp_path / "student", config, teacher=teacher, **kwargs)
    assert student.delta_dir is not None
    record = json.loads((student.delta_dir / DELTA_RECORD).read_text(encoding="utf-8"))
    assert record["teacher"] == teacher.id and record["layers"] == 2

    # The teacher read each training question's positives and its 3 best hard negatives, once each: the pairs the
    # student draws from (a pair it had not scored would have stopped training).
    notices = load_training_notices(notices_dir, QUESTIONS, in_training_half)
    groups = split_by_notice(mine_groups(QUESTIONS, notices, embedder, cache_dir), notices).train
    expected = {(g.question, text) for g in groups for text in (*g.positives, *g.negatives[:3])}
    assert set(teacher.asked) == expected and len(teacher.asked) == len(expected)

    # Without the teacher the same run learns other weights.
    alone = run(QUESTIONS, notices_dir, tmp_path / "alone", config, **kwargs)
    assert json.loads((tmp_path / "alone" / DELTA_RECORD).read_text())["teacher"] is None
    assert alone.metrics != student.metrics


def test_the_answerable_threshold_flags_at_most_one_in_twenty_answerable_questions() -> None:
    bests = [i / 100 for i in range(40, 0, -1)]  # 40 answerable questions' best scores, 0.01 to 0.40
    threshold = answerable_threshold(bests)
    assert threshold == pytest.approx(0.03)
    assert sum(best < threshold for best in bests) == 2  # 5% of 40
    assert answerable_threshold(bests, max_flagged=0.0) == pytest.approx(0.01)
    assert answerable_threshold([]) is None


@pytest.mark.slow
def test_a_trained_delta_serves_over_http_and_the_threshold_it_chose_judges_answerable_when_set(
    notices_dir: Path,
    tiny_base: Path,
    embedder: Embedder,
    cache_dir: Path,
    tmp_path: Path,
    default_index_dir: Path,
    default_index: DirectoryIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delta_dir = train_tiny(tmp_path / "delta", notices_dir, tiny_base, embedder, cache_dir).delta_dir
    assert delta_dir is not None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tiny_base.parents[2]))  # the delta's base, found in the models cache
    spec = f"policyqa:{delta_dir}"
    reranker = make_reranker(spec)
    assert isinstance(reranker, PolicyReranker)
    threshold = reranker.record["answerable_threshold"]  # the one its training chose, asked for by the settings
    settings = Settings(
        index_dir=default_index_dir, rate_limit=None, reranker=spec, rerank_depth=4, answerable_min_rerank=threshold
    )
    live = LiveServer(settings).start()
    try:
        assert httpx.get(f"{live.url}/readyz").json()["reranker"] == reranker.id
        for query in ("融资租赁公司能收外币租金吗", "明天天气怎么样", NANNING_QUESTION.question):
            answer = httpx.post(f"{live.url}/v1/search", json={"query": query, "top_k": 6}, timeout=60).json()
            head = [result for result in answer["results"] if "rerank" in result["scores"]]
            assert len(head) == 4  # the depth
            texts = [lexical_text(default_index.get_passage(result["passage_id"])) for result in head]
            assert answer["answerable"] == bool(reranker.score(query, texts).max() >= threshold), query
    finally:
        live.stop()


def test_a_delta_over_another_base_is_refused(tmp_path: Path, tiny_base: Path) -> None:
    (tmp_path / DELTA_RECORD).write_text(json.dumps({"base_model": "another-base", "max_length": 64}), encoding="utf-8")
    with pytest.raises(DeltaError, match="trained over another-base, not tiny-base"):
        PolicyReranker(tmp_path, base_dir=tiny_base)


def test_a_delta_without_the_head_the_base_lacks_is_refused(tmp_path: Path, tiny_base: Path) -> None:
    from safetensors.torch import save_file

    (tmp_path / DELTA_RECORD).write_text(json.dumps({"base_model": "tiny-base", "max_length": 64}), encoding="utf-8")
    save_file({"classifier.weight": torch.zeros(1, 32)}, str(tmp_path / DELTA_WEIGHTS))
    with pytest.raises(
        DeltaError, match=r"no weights for bert\.pooler\.dense\.bias, .*classifier\.bias, which the base"
    ):
        PolicyReranker(tmp_path, base_dir=tiny_base)
