"""A question about a place is answered from that place's notice, and not at all from another place's alone; one
that names none, from a national notice or the portal's home region's."""

from __future__ import annotations

import pytest

from index.contract import Filters
from index.directory import DirectoryIndex
from index.embedders import Embedder
from retrieval import Retriever
from retrieval.answerability import Thresholds
from retrieval.config import RankingConfig
from retrieval.jurisdiction import ELSEWHERE, SAME, Jurisdiction
from retrieval.results import RetrievalRequest
from tests.conftest import open_notices

pytestmark = pytest.mark.slow

# One measure, as three governments word it.
NOTICES = {
    "sanming-rent": "三明市人民政府关于支持中小企业共渡难关的若干措施\n\n"
    "一、减免房租。对承租国有资产类经营用房的中小企业，免收2020年2月、3月两个月房租。\n\n"
    "二、延期缴纳社会保险费。受疫情影响的企业可延期缴纳社会保险费，最长不超过6个月。\n\n"
    "三明市人民政府\n\n2020年2月10日\n",
    "beijing-rent": "北京市人民政府办公厅关于应对疫情支持中小微企业的若干措施\n\n"
    "一、减免房租。对承租国有企业经营用房的中小微企业，免收2020年2月份房租，3月份房租减半收取。\n\n"
    "二、延期缴纳社会保险费。受疫情影响的中小微企业可申请延期缴纳社会保险费。\n\n"
    "北京市人民政府办公厅\n\n2020年2月6日\n",
    "national-rent": "国务院办公厅关于支持中小企业复工复产的通知\n\n"
    "一、减免房租。对承租国有资产类经营用房的中小企业，各地可减免或减半收取2020年2月、3月房租。\n\n"
    "二、延期缴纳社会保险费。受疫情影响的中小企业可延期缴纳社会保险费。\n\n"
    "国务院办公厅\n\n2020年2月20日\n",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> DirectoryIndex:
    return open_notices(NOTICES, tmp_path_factory.mktemp("notices"), embedder)


def first_notice(index: DirectoryIndex, question: str, home_region: str | None = None) -> str:
    retriever = Retriever(index, RankingConfig(home_region=home_region))
    hits = retriever.search(RetrievalRequest(question, 3, "hybrid", Filters())).hits
    assert "place" in hits[0].scores
    return hits[0].passage.doc_id


def test_each_notice_knows_where_it_applies(index: DirectoryIndex) -> None:
    regions = {document.doc_id: document.identity.region for document, _ in index.document_counts()}
    assert regions == {"sanming-rent": "福建省/三明市", "beijing-rent": "北京市", "national-rent": "全国"}


@pytest.mark.parametrize(
    ("question", "notice"),
    [
        ("在三明租国有的店面做生意，房租能减免吗？", "sanming-rent"),
        ("北京的小微企业租国有房子，房租能减免吗？", "beijing-rent"),
        ("福建的企业租国有的房子，房租能减免吗？", "sanming-rent"),  # within the province asked about
        ("租国有的店面做生意，房租能减免吗？", "national-rent"),  # no place named: the national notice
    ],
)
def test_the_notice_of_the_place_asked_about_comes_first(index: DirectoryIndex, question: str, notice: str) -> None:
    assert first_notice(index, question) == notice


def test_a_portal_s_home_region_answers_questions_that_name_no_place(index: DirectoryIndex) -> None:
    question = "租国有的店面做生意，房租能减免吗？"
    assert first_notice(index, question, home_region="北京市") == "beijing-rent"
    assert first_notice(index, question, home_region="三明") == "sanming-rent"


def test_without_the_place_weight_the_place_plays_no_part(index: DirectoryIndex) -> None:
    retriever = Retriever(index, RankingConfig(place_weight=0))
    hits = retriever.search(RetrievalRequest("在三明租国有的店面做生意，房租能减免吗？", 3, "hybrid", Filters())).hits
    assert all("place" not in hit.scores for hit in hits)


@pytest.mark.parametrize(
    ("question", "kept", "answerable"),
    [
        ("在三明租国有的店面做生意，房租能减免吗？", "beijing-rent", False),  # 北京's rules do not answer for 三明
        ("在三明租国有的店面做生意，房租能减免吗？", "national-rent", True),  # a national measure applies there
        ("福建的企业租国有的房子，房租能减免吗？", "sanming-rent", True),  # 三明 lies within 福建
        ("租国有的店面做生意，房租能减免吗？", "beijing-rent", True),  # no place named
        ("国务院对租国有店面的中小企业减免房租有什么规定？", "beijing-rent", False),  # a national measure asked
        ("国务院对租国有店面的中小企业减免房租有什么规定？", "national-rent", True),
    ],
)
def test_a_question_about_a_place_none_of_whose_clauses_is_there_is_not_answered(
    index: DirectoryIndex, question: str, kept: str, answerable: bool
) -> None:
    retrieval = Retriever(index).search(RetrievalRequest(question, 3, "hybrid", Filters(doc_id=kept)))
    assert retrieval.hits and retrieval.answerable is answerable
    unasked = Retriever(index, RankingConfig(thresholds=Thresholds(other_place=False)))
    assert unasked.search(RetrievalRequest(question, 3, "hybrid", Filters(doc_id=kept))).answerable


def test_the_place_asked_about_is_read_in_traditional_characters_too() -> None:
    jurisdiction = Jurisdiction("在南寧工作的香港員工能交住房公積金嗎？")
    assert jurisdiction.fit("广西壮族自治区/南宁市") == SAME
    assert jurisdiction.fit("北京市") == ELSEWHERE


def test_a_place_named_with_the_places_it_lies_in_asks_about_the_innermost() -> None:
    district = Jurisdiction("2020年，泰州市海陵区企业复工必备条件是什么？")
    assert district.fit("江苏省/泰州市/海陵区") == SAME
    assert district.fit("江苏省/泰州市") < SAME  # the city's notice is above the district asked about
    assert Jurisdiction("福建三明的店面房租能减免吗？").fit("福建省") < SAME
    two_places = Jurisdiction("北京和上海的企业复工有什么要求？")  # neither lies within the other: both asked
    assert two_places.fit("北京市") == two_places.fit("上海市") == SAME


def test_a_question_naming_a_central_organ_is_not_answered_by_local_notices_alone() -> None:
    central = Jurisdiction("财政部对捐赠口罩的企业有什么税收优惠？")
    assert central.elsewhere("北京市") and not central.elsewhere("全国") and not central.elsewhere(None)
    assert Jurisdiction("国家税务总局如何优化线上办税？").elsewhere("北京市")
    # A bare 国家, 中央 or 全国 names no organ: any local plan speaks of them.
    for question in (
        "东盟国家的企业能在自贸区投资吗？",
        "中央对自贸试验区建设有什么要求？",
        "全国首创的改革举措有哪些？",
    ):
        assert not Jurisdiction(question).elsewhere("广西壮族自治区"), question
    assert not Jurisdiction("餐厅的中央空调在疫情期间怎么消毒？").elsewhere("北京市")  # air conditioning
    assert not Jurisdiction("财政部门对捐赠口罩的企业有什么税收优惠？").elsewhere("北京市")  # any place's department
