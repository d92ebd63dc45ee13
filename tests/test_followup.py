"""Follow-up questions: an elliptical one is completed from the conversation before it is searched, and ranked beside
itself as asked; a self-contained one is searched as asked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR
from eval.conversations.measure import check_labels, load_conversations
from index import DirectoryIndex
from retrieval import RetrievalRequest, Retriever
from retrieval.followup import resolve

SOCIAL_INSURANCE = "疫情期间中小微企业的社保单位缴费部分能免多久？"
DOC_ID = "guangxi-ftz-implementation-plan-2020"


@pytest.mark.parametrize(
    ("follow_up", "earlier", "searched"),
    [
        # A party for the earlier party, with the words that modify it (中小微).
        ("那个体工商户呢？", SOCIAL_INSURANCE, "疫情期间个体工商户的社保单位缴费部分能免多久？"),
        # A place where the earlier question named none goes in front.
        ("湖北呢？", SOCIAL_INSURANCE, "湖北疫情期间中小微企业的社保单位缴费部分能免多久？"),
        ("那湖北的企业呢？", SOCIAL_INSURANCE, "湖北疫情期间企业的社保单位缴费部分能免多久？"),
        # A place for the earlier place, however either is written.
        ("北京呢？", "湖北省的企业社保能免多久？", "北京的企业社保能免多久？"),
        # The word it ends with, or a noun ending alike (a zone for the free trade zone), with the place before it.
        ("副组长呢？", "领导小组的组长是谁？", "领导小组的副组长是谁？"),
        ("钦州港片区呢？", "广西自贸试验区的实施范围有多大？", "钦州港片区的实施范围有多大？"),
        ("那钦州港片区呢？", "南宁片区重点发展什么产业？", "钦州港片区重点发展什么产业？"),
        # Nothing of its kind to replace: a new subject, of the earlier place and party.
        ("那研发费用呢？", "北京中小微企业承租国有企业房产能免房租吗？", "北京中小微企业研发费用？"),
        # A county's name (合作, in Gansu) is not taken for the earlier question's place.
        ("钦州呢？", "中马两国双园是什么合作模式？", "钦州中马两国双园是什么合作模式？"),
    ],
)
def test_a_contrast_asks_the_earlier_question_of_another_party_or_place(
    follow_up: str, earlier: str, searched: str
) -> None:
    assert resolve(follow_up, [earlier]) == searched


@pytest.mark.parametrize(
    ("follow_up", "searched"),
    [
        ("需要什么材料？", "疫情期间中小微企业的社保单位缴费部分能免 需要什么材料？"),
        ("有效期多久？", "疫情期间中小微企业的社保单位缴费部分能免 有效期多久？"),
        ("怎么申请？", "疫情期间中小微企业的社保单位缴费部分能免 怎么申请？"),
        # It points back: the pointer gives way to the earlier subject.
        ("这项政策适用于个体工商户吗？", "疫情期间中小微企业的社保单位缴费部分能免 适用于个体工商户吗？"),
    ],
)
def test_a_question_naming_no_subject_takes_the_earlier_one(follow_up: str, searched: str) -> None:
    assert resolve(follow_up, [SOCIAL_INSURANCE]) == searched


@pytest.mark.parametrize(
    "question",
    [
        "钦州港片区能做汽车平行进口吗？",
        "那湖北省对中小企业有什么扶持政策？",  # opens like a follow-up, names its own subject
        "其他企业能享受减免吗？",  # 其他 is no pointer
        "外出就业3个月以上的贫困劳动力有补贴吗？",  # nor is 以上
        "湖北省的企业社保单位缴费能免征多久呢？",  # a whole question ending in 呢
    ],
)
def test_a_self_contained_question_is_searched_as_asked(question: str) -> None:
    assert resolve(question, [SOCIAL_INSURANCE]) == question


def test_without_earlier_questions_nothing_changes() -> None:
    assert resolve("湖北呢？") == "湖北呢？"
    assert resolve("湖北呢？", ["", "  "]) == "湖北呢？"


def test_a_chain_of_follow_ups_keeps_its_subject() -> None:
    history = ["湖北的企业社保能免多久？", "那北京呢？"]
    assert resolve("需要什么材料？", history) == "北京的企业社保能免 需要什么材料？"


def test_the_retriever_searches_the_completed_follow_up_and_says_so(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    follow_up = RetrievalRequest("那钦州港片区呢？", top_k=1, history=("南宁片区重点发展什么产业？",))
    alone = retriever.search(follow_up._replace(history=()))
    resolved = retriever.search(follow_up)
    assert alone.searched == "那钦州港片区呢？"
    assert resolved.searched == "钦州港片区重点发展什么产业？"
    # Each zone's industries stand in the layout's second paragraph; asked alone, the zones' areas come first.
    assert resolved.hits[0].passage.passage_id == f"{DOC_ID}:2.p2"
    assert alone.hits[0].passage.passage_id == f"{DOC_ID}:2.p1"
    # The completed question and the follow-up as asked each give half of every part of the score.
    assert resolved.hits[0].score == pytest.approx(sum(resolved.hits[0].scores.values()))
    assert resolved.hits[0].score < 1.0


def test_the_conversations_measured_are_of_the_schema_and_label_passages_the_parser_makes(tmp_path: Path) -> None:
    conversations = load_conversations()
    assert len(conversations) >= 40
    assert {c.corpus for c in conversations} == {"ncp", "guangxi"}
    guangxi = [c for c in conversations if c.corpus == "guangxi"]
    check_labels(guangxi, {"guangxi": DEFAULT_CORPUS_DIR})  # the NCP notices are not in the repository
    first, second = guangxi[0].turns
    mislabelled = replace(guangxi[0], turns=(first, replace(second, passage_ids=frozenset({f"{DOC_ID}:9.9.99"}))))
    with pytest.raises(ValueError, match=r"g01: guangxi-ftz-implementation-plan-2020:9\.9\.99"):
        check_labels([mislabelled], {"guangxi": DEFAULT_CORPUS_DIR})
    broken = tmp_path / "conversations.jsonl"
    broken.write_text('{"cid": "x", "corpus": "ncp", "split": "tuning", "turns": []}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"conversations\.jsonl:1: not a two-turn conversation"):
        load_conversations(broken)
