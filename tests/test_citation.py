"""A question that names a notice, by its 文号 or its title in 《》, is answered from that notice first, though
another notice words the clause more like the question."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.loader import load_notice
from corpus.models import Passage
from index.directory import DirectoryIndex
from index.embedders import Embedder
from retrieval import Retriever
from retrieval.citation import Citation
from retrieval.config import RankingConfig
from retrieval.results import RetrievalRequest
from tests.conftest import open_notices

# A measure, in the announcement that makes it and in a guide that repeats it in a question's own words, citing it;
# and a notice about something else, with a 文号 of the other form.
NOTICES = {
    "tax-8": "财政部 税务总局关于支持新型冠状病毒感染的肺炎疫情防控有关税收政策的公告\n\n"
    "财政部 税务总局公告2020年第8号\n\n"
    "一、对疫情防控重点保障物资生产企业为扩大产能新购置的相关设备，允许一次性计入当期成本费用在企业所得税税前扣除。\n\n"
    "二、对纳税人运输疫情防控重点保障物资取得的收入，免征增值税。\n\n"
    "财政部 税务总局\n\n2020年2月6日\n",
    "tax-guide": "疫情防控税收优惠政策问答\n\n"
    "一、生产企业为扩大产能新购置的设备有什么税收政策？疫情防控重点保障物资生产企业为扩大产能新购置的设备，"
    "可以一次性在企业所得税税前扣除，新购置设备不必分年折旧（财政部 税务总局公告2020年第8号）。\n\n"
    "二、运输防疫物资的收入要交增值税吗？运输疫情防控重点保障物资取得的收入免征增值税。\n",
    "gx-rent": "广西壮族自治区人民政府办公厅关于减免中小企业房租的通知\n\n"
    "桂政办发〔2020〕7号\n\n"
    "一、减免房租。对承租国有资产类经营用房的中小企业，免收2020年2月、3月两个月房租。\n\n"
    "广西壮族自治区人民政府办公厅\n\n2020年2月8日\n",
    "gx-order": "广西壮族自治区疫情防控工作领导小组指挥部令（第1号）\n\n"
    "一、全区各类企业不早于2月9日24时前复工。\n\n"
    "广西壮族自治区疫情防控工作领导小组指挥部\n\n2020年2月1日\n",
    "gx-plan": "广西壮族自治区人民政府关于印发《广西稳企业保就业若干措施》的通知\n\n"
    "一、减免社会保险费。\n\n广西壮族自治区人民政府\n\n2020年2月10日\n",
}
QUESTION = "扩大产能新购置的设备有什么税收政策？"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> DirectoryIndex:
    return open_notices(NOTICES, tmp_path_factory.mktemp("notices"), embedder)


def first(index: DirectoryIndex, question: str, citation_weight: float = RankingConfig().citation_weight) -> Passage:
    retriever = Retriever(index, RankingConfig(citation_weight=citation_weight))
    return retriever.search(RetrievalRequest(question, 3, "hybrid")).hits[0].passage


@pytest.mark.slow
def test_a_notice_named_by_its_number_answers_before_one_that_words_it_like_the_question(
    index: DirectoryIndex,
) -> None:
    assert first(index, QUESTION).doc_id == "tax-guide"
    asked = f"财政部、税务总局公告2020年第8号：{QUESTION}"
    assert first(index, asked, citation_weight=0).doc_id == "tax-guide"
    assert first(index, asked).doc_id == "tax-8"


@pytest.mark.slow
def test_a_notice_named_by_its_title_answers_first(index: DirectoryIndex) -> None:
    asked = f"《关于支持新型冠状病毒感染的肺炎疫情防控有关税收政策的公告》里，{QUESTION}"
    retriever = Retriever(index)
    hit = retriever.search(RetrievalRequest(asked, 3, "hybrid")).hits[0]
    assert hit.passage.doc_id == "tax-8"
    assert hit.scores["cited"] > 0


@pytest.fixture(scope="module")
def passages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Passage]:
    folder = tmp_path_factory.mktemp("read")
    first_clauses = {}
    for doc_id, text in NOTICES.items():
        (path := folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        first_clauses[doc_id] = load_notice(Path(path), doc_id).passages[-1]
    return first_clauses


@pytest.mark.parametrize(
    ("question", "cited"),
    [
        ("财政部 税务总局公告2020年第8号的设备扣除", {"tax-8"}),
        ("财政部、税务总局公告2020年第8号的设备扣除", {"tax-8"}),  # issuers separated otherwise
        ("桂政办发[2020]7号说房租怎么减免", {"gx-rent"}),  # other brackets
        ("桂政辦發（2020）7號的房租減免", {"gx-rent"}),  # traditional characters, full-width brackets
        ("桂政办发〔2020〕17号说房租怎么减免", set()),  # another number of the same series
        ("《关于减免中小企业房租的通知》怎么申请", {"gx-rent"}),  # the title without its issuer
        ("《通知》里的房租怎么减免", set()),  # too short to name a notice
        ("房租怎么减免", set()),
        ("国家税务总局公告2020年第1号怎么说", set()),  # holds 第1号, an order's number without its year
        ("广西第1号令什么时候复工", set()),
        ("《关于印发广西稳企业保就业若干措施的通知》有哪些", {"gx-plan"}),  # without the inner 《》
        ("《广西稳企业保就业若干措施》有哪些", {"gx-plan"}),  # the plan the notice prints
    ],
)
def test_the_notices_a_question_names(passages: dict[str, Passage], question: str, cited: set[str]) -> None:
    citation = Citation(question)
    assert {doc_id for doc_id, passage in passages.items() if citation.cites(passage)} == cited
