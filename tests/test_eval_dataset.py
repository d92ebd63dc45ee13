"""Datasets built from a notices folder, judged by answer span: the judge, the metrics, `policyqa eval --dataset`."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import load_corpus
from eval.answers import AnswerJudge, ask_all, judge_answers
from eval.dataset import Answer, Query, load_dataset, load_qrels, load_queries
from eval.dataset_report import top_elsewhere
from eval.harness import Response, Result, library_searcher
from eval.ncp import convert, convert_across, convert_team, half
from index import DirectoryIndex
from retrieval import Retriever
from tests.conftest import DOC_ID, FIXTURES, NOTICE

# Questions of this team's own, with the notice and the text that answer them.
QUESTIONS = [
    ("lease", "融资租赁公司能收外币租金吗", "允许广西自贸试验区内符合条件的融资租赁业务收取外币租金。"),
    ("cars", "钦州港片区能做汽车平行进口吗？", "支持钦州港片区扩大汽车平行进口规模"),
    ("area", "广西自贸试验区有多大？", "广西自贸试验区的实施范围119.99平方公里"),
]


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    root = tmp_path / "guangxi-questions"
    (root / "notices").mkdir(parents=True)
    shutil.copy(NOTICE, root / "notices")
    shutil.copy(NOTICE, root / "notices" / "copy-of-the-notice.txt")  # the same text under another name
    with (root / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for qid, question, _ in QUESTIONS:
            queries.write(json.dumps({"_id": qid, "text": question}, ensure_ascii=False) + "\n")
    with (root / "answers.jsonl").open("w", encoding="utf-8") as answers:
        for qid, _, answer in QUESTIONS:
            answers.write(json.dumps({"query-id": qid, "doc-id": DOC_ID, "answer": answer}, ensure_ascii=False) + "\n")
    return root


def test_a_clause_holds_an_answer_it_contains_or_mostly_lies_inside() -> None:
    notice = load_corpus(NOTICE.parent).notices[0]
    judge = AnswerJudge({DOC_ID: notice.document.text, "copy": notice.document.text, "other": "别的通知。"})
    layout = [p for p in notice.passages if p.section_path == ("二、功能布局",)]
    short = Answer(DOC_ID, "南宁片区46.8平方公里")
    assert judge.holds(short, DOC_ID, layout[0].text)
    assert judge.holds(short, "copy", layout[0].text)  # identical text is the same notice
    assert not judge.holds(short, "other", layout[0].text)
    assert not judge.holds(short, DOC_ID, layout[1].text)
    # An answer spanning both paragraphs: each lies wholly inside it, so each holds it.
    both = Answer(DOC_ID, layout[0].text + "\n\n" + layout[1].text)
    assert judge.holds(both, DOC_ID, layout[0].text) and judge.holds(both, DOC_ID, layout[1].text)
    # An answer that takes in a sliver of a clause does not make that clause an answer.
    sliver = Answer(DOC_ID, layout[0].text[-10:] + layout[1].text)
    assert not judge.holds(sliver, DOC_ID, layout[0].text)


def test_answer_metrics_follow_the_rankings(dataset_dir: Path, default_index: DirectoryIndex) -> None:
    dataset = load_dataset(dataset_dir)
    judge = AnswerJudge({n.document.doc_id: n.document.text for n in load_corpus(dataset.notices_dir).notices})
    responses = ask_all(dataset.queries, library_searcher(Retriever(default_index)), "hybrid")
    metrics = judge_answers(dataset.queries, dataset.answers, responses, judge)
    top = {qid: response.results[0] for qid, response in responses.items()}
    expected_hit = sum(dataset.answers[qid].text.rstrip("。") in r.text for qid, r in top.items()) / len(top)
    assert metrics["answer_hit@1"] == pytest.approx(expected_hit)
    assert metrics["notice_hit@1"] == 1.0
    assert metrics["answer_recall@5"] >= metrics["answer_hit@1"]
    assert metrics["top1_chars"] == pytest.approx(sum(len(r.text) for r in top.values()) / len(top))
    highlighted = sum(dataset.answers[qid].text in r.highlight for qid, r in top.items()) / len(top)
    assert metrics["highlight@1"] == pytest.approx(highlighted)


def test_a_result_counts_for_the_notices_its_copies_stand_in() -> None:
    judge = AnswerJudge({"gold": "一、总则。出口退税5个工作日办结。", "news": "转载：出口退税5个工作日办结。"})
    answer = Answer("gold", "5个工作日")
    republished = Result(1, "news:1", "news", "出口退税5个工作日办结。", "出口退税5个工作日办结。")
    query = Query("q", "退税多久", "paraphrase", "test")
    for also_in, expected in (((), 0.0), (("gold",), 1.0)):
        response = Response([dataclasses.replace(republished, also_in=also_in)], answerable=True)
        metrics = judge_answers([query], {"q": answer}, {"q": response}, judge)
        assert metrics["answer_hit@1"] == metrics["notice_hit@1"] == metrics["notice_recall@5"] == expected


def test_metrics_of_no_judged_question_are_not_a_number() -> None:
    judge = AnswerJudge({"a": "一、总则。"})
    metrics = judge_answers([Query("q", "?", "question", "test")], {}, {}, judge)
    assert all(value != value for value in metrics.values())  # NaN, not a misleading 0


def test_a_dataset_needs_notices_questions_and_judgements(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"a dataset needs notices/ and queries\.jsonl"):
        load_dataset(tmp_path)
    (tmp_path / "notices").mkdir()
    (tmp_path / "queries.jsonl").write_text('{"_id": "q", "text": "?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"needs answers\.jsonl or qrels/test\.tsv"):
        load_dataset(tmp_path)


@pytest.mark.slow
def test_policyqa_eval_dataset_indexes_its_notices_and_reports(dataset_dir: Path, tmp_path: Path) -> None:
    with (dataset_dir / "queries.jsonl").open("a", encoding="utf-8") as queries:  # one no notice answers
        queries.write(json.dumps({"_id": "weather", "text": "明天天气怎么样"}, ensure_ascii=False) + "\n")
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(tmp_path / "default-index")}
    command = [sys.executable, "-m", "service.cli", "eval", "--dataset", str(dataset_dir), "--modes", "bm25"]
    result = subprocess.run([*command, "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "| mode | notice Hit@1 | notice Recall@5 | answer Hit@1 |" in result.stdout
    assert "| bm25 | 1.000 | 1.000 |" in result.stdout
    assert (tmp_path / "datasets" / "guangxi-questions" / "current" / "manifest.json").is_file()
    assert not (tmp_path / "default-index").exists()  # the default corpus's index is not touched
    assert re.search(
        r"^bm25: flagged [01]/1 questions with no answer, [0-3]/3 answered ones wrongly$", result.stdout, re.M
    )
    report = (tmp_path / "out" / "report-guangxi-questions.md").read_text(encoding="utf-8")
    assert "notice Hit@1" in report
    assert '"bm25_variant": "robertson"' in report and '"reranker": null' in report  # what ranked the run


def test_ncp_questions_are_typed_by_the_half_of_the_notices_that_answers_them(tmp_path: Path) -> None:
    source = tmp_path / "ncppolicies"
    (source / "notices").mkdir(parents=True)
    for fixture in FIXTURES.iterdir():
        shutil.copy(fixture, source / "notices")
    halves = {path.stem: half(path.stem) for path in (source / "notices").iterdir()}
    assert set(halves.values()) == {"training-half", "other-half"}  # the three fixtures fall in both
    rows = ["qid\tdocid\tquestion\tanswer"] + [f"q-{doc}\t{doc}\t问题{i}\t 答案{i} " for i, doc in enumerate(halves)]
    (source / "questions-dev.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    assert convert(source, tmp_path / "dev") == 3
    dataset = load_dataset(tmp_path / "dev")
    assert {q.qid: q.type for q in dataset.queries} == {f"q-{doc}": kind for doc, kind in halves.items()}
    assert dataset.answers["q-" + next(iter(halves))].text == "答案0"


def test_the_teams_questions_take_their_answers_from_the_notice_and_off_topic_ones_have_none(tmp_path: Path) -> None:
    source = tmp_path / "ncppolicies"
    (source / "notices").mkdir(parents=True)
    shutil.copy(FIXTURES / "export-tax-rebate-service.txt", source / "notices")
    text = (source / "notices" / "export-tax-rebate-service.txt").read_text(encoding="utf-8")
    start = text.index("5个工作日")
    team = tmp_path / "team"
    team.mkdir()
    question = {"qid": "h1", "question": "退税多久办完", "doc_id": "export-tax-rebate-service",
                "passage_ids": [], "answer_chars": [start, start + 5], "style": "specific"}  # fmt: skip
    (team / "questions-other-half.jsonl").write_text(json.dumps(question, ensure_ascii=False) + "\n", encoding="utf-8")
    off_topic = {"qid": "o1", "question": "明天天气怎么样", "style": "off-topic-chat"}
    (team / "off-topic.jsonl").write_text(json.dumps(off_topic, ensure_ascii=False) + "\n", encoding="utf-8")

    assert convert_team(source, tmp_path / "team-dataset", team) == 2
    dataset = load_dataset(tmp_path / "team-dataset")
    assert dataset.answers == {"h1": Answer("export-tax-rebate-service", "5个工作日")}
    assert {q.qid: q.type for q in dataset.queries} == {"h1": half("export-tax-rebate-service"), "o1": "off-topic"}
    with pytest.raises(SystemExit, match="outside the repository"):
        convert_team(source, Path(__file__).parent / "not-here", team)


def test_across_corpora_the_ncp_questions_are_off_topic_beside_the_gold_questions(tmp_path: Path) -> None:
    source = tmp_path / "ncppolicies"
    source.mkdir()
    rows = ["qid\tdocid\tquestion\tanswer", "n1\tsome-notice\t武汉的企业能缓缴社保吗\t可以"]
    (source / "questions-dev.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    heldout = load_queries("heldout")
    assert convert_across(source, tmp_path / "across") == len(heldout) + 1
    dataset = load_dataset(tmp_path / "across")
    assert (dataset.notices_dir / "guangxi-ftz-implementation-plan-2020.txt").is_file()  # the default notice
    assert {q.qid: q.type for q in dataset.queries} == {
        **{q.qid: q.type for q in heldout},
        "ncp-n1": "off-topic",
    }
    assert dataset.qrels == load_qrels("heldout") and not dataset.answers


def test_a_top_clause_of_another_place_is_counted_over_the_questions_that_name_one() -> None:
    def top(region: str | None) -> Response:
        return Response([Result(1, "n:1", "n", "text", "text", region=region)], True)

    questions = {
        "sanming-right": ("在三明租店面，房租能减免吗？", top("福建省/三明市")),
        "sanming-above": ("在三明租店面，房租能减免吗？", top("全国")),
        "sanming-wrong": ("在三明租店面，房租能减免吗？", top("北京市")),
        "sanming-unknown": ("在三明租店面，房租能减免吗？", top(None)),
        "no-place": ("房租能减免吗？", top("北京市")),  # names no place: not counted
    }
    queries = [Query(qid, text, "paraphrase", "dev") for qid, (text, _) in questions.items()]
    responses = {qid: response for qid, (_, response) in questions.items()}
    assert top_elsewhere(queries, responses) == (1, 4)
