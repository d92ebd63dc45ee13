"""Notices as portals publish them: numbering inline in one long line, no numbering at all, over-long clauses."""

from __future__ import annotations

import itertools
import re

import pytest

from corpus import load_notice
from corpus.models import Passage
from corpus.parser import MAX_PASSAGE_CHARS, parse_notice
from corpus.sentences import part_spans
from tests.conftest import DOC_ID, NOTICE

# A scraped notice of this team's own writing: one line, numbering inline, a document number, signed at the end.
ONE_LINE = (
    "某市商务局关于支持外贸企业复工复产的通知 某商发〔2020〕7号 各区商务主管部门： 为做好疫情防控期间外贸工作，"
    "现就有关事项通知如下： 一、加大金融支持 1、对受疫情影响的企业，贷款利率下浮1.5个百分点，额度可达3.5亿元。"
    "2、2020年第一季度到期的贷款可以展期。 二、优化通关服务 1、推行无纸化通关，企业无需到现场办理。"
    "2、对出口防疫物资的企业，一是开辟绿色通道，二是实行预约通关。 第三条规定的企业另行通知。"
    " 某市商务局 2020年2月10日"
)


def key(passage: Passage) -> tuple[str, str | None, tuple[str, ...], str]:
    return passage.passage_id, passage.article, passage.section_path, re.sub(r"\s+", "", passage.text)


def test_the_default_notice_joined_into_one_line_parses_as_published() -> None:
    published = load_notice(NOTICE)
    one_line = re.sub(r"\s*\n\s*", " ", published.document.text)
    document, passages = parse_notice(DOC_ID, one_line, NOTICE.name)
    assert [key(p) for p in passages] == [key(p) for p in published.passages]
    assert (document.title, document.identity.issuer, document.identity.date) == (
        published.document.title,
        published.document.identity.issuer,
        published.document.identity.date,
    )
    for passage in passages:
        assert one_line[passage.start : passage.end] == passage.text


def test_without_even_a_space_between_lines_the_45_articles_keep_their_ids_and_sections() -> None:
    published = load_notice(NOTICE)
    _, passages = parse_notice(DOC_ID, re.sub(r"\s*\n\s*", "", published.document.text), NOTICE.name)
    main = [p for p in published.passages if p.article and not p.section_path[0].startswith("附件")]
    found = {(p.passage_id, p.article, p.section_path) for p in passages}
    assert len(main) == 45
    assert {(p.passage_id, p.article, p.section_path) for p in main} <= found


def test_inline_numbering_gives_clauses_with_their_section_and_article() -> None:
    _document, passages = parse_notice("scraped", ONE_LINE, "scraped.txt")
    by_id = {p.passage_id.split(":")[1]: p for p in passages}
    assert by_id["1.1"].section_path == ("一、加大金融支持",)
    assert by_id["1.1"].article == "1"
    assert by_id["1.1"].citation.startswith(
        "《某市商务局关于支持外贸企业复工复产的通知》（某商发〔2020〕7号）一、加大金融支持 第1条"
    )
    assert by_id["2.2"].section_path == ("二、优化通关服务",)
    assert [k for k in by_id if k[0].isdigit()] == ["1.1", "1.2", "2.1", "2.2"]


def test_numbers_dates_quarters_and_enumerations_inside_a_clause_are_not_markers() -> None:
    _, passages = parse_notice("scraped", ONE_LINE, "scraped.txt")
    by_id = {p.passage_id.split(":")[1]: p for p in passages}
    assert "下浮1.5个百分点，额度可达3.5亿元。" in by_id["1.1"].text
    assert by_id["1.2"].text.startswith("2、2020年第一季度到期的贷款")
    assert "一是开辟绿色通道，二是实行预约通关。 第三条规定的企业另行通知。" in by_id["2.2"].text
    assert not any(p.article == "3" for p in passages)


def test_identity_of_a_scraped_notice_from_running_text() -> None:
    document, _ = parse_notice("scraped", ONE_LINE, "scraped.txt")
    assert document.title == "某市商务局关于支持外贸企业复工复产的通知"
    assert document.identity.number == "某商发〔2020〕7号"
    assert (document.identity.issuer, document.identity.date) == ("某市商务局", "2020-02-10")


@pytest.mark.parametrize(
    "furniture",
    [
        "责任编辑：李四",
        "【 打印本页】 【 关闭窗口】",
        "扫一扫在手机打开当前页",
        "（记者 王五）责任编辑：李四 扫一扫在手机打开当前页",
    ],
)
def test_page_furniture_run_into_the_text_is_no_part_of_any_clause(furniture: str) -> None:
    """A page scraped into one line runs its footer into the last clause: the clause, its words and the signature
    are as without it."""
    document, passages = parse_notice("scraped", f"{ONE_LINE}{furniture}", "scraped.txt")  # run into the date
    _, clean = parse_notice("scraped", ONE_LINE, "scraped.txt")
    assert [key(p) for p in passages] == [key(p) for p in clean]
    assert not any(word in p.text for p in passages for word in ("责任编辑", "打印本页", "关闭窗口", "扫一扫"))
    assert (document.identity.issuer, document.identity.date) == ("某市商务局", "2020-02-10")


def test_furniture_words_in_a_sentence_stay_in_it() -> None:
    text = "关于加强扫码登记的通知 一、进入小区的居民都要扫一扫二维码，系统会自动识别隔离期。 二、各社区每日报告。"
    _, passages = parse_notice("scan", text, "scan.txt")
    assert any("都要扫一扫二维码" in p.text for p in passages)


def test_a_notice_cited_in_brackets_is_not_the_notices_own_number() -> None:
    text = "关于做好复工的通知 根据《省政府关于复工的意见》（某政发〔2020〕3号）要求，现通知如下。各单位要做好准备。"
    document, _ = parse_notice("cited", text, "cited.txt")
    assert document.identity.number is None


def test_a_notice_without_numbering_or_title_becomes_passages_of_whole_sentences() -> None:
    sentence = "各地要统筹做好疫情防控和经济社会发展工作，确保企业有序复工复产并保障重点物资的生产和运输。"
    text = "浙江：全省企业有序复工 " + sentence * 30
    document, passages = parse_notice("news", text, "news.txt")
    assert document.title == "浙江：全省企业有序复工"
    assert len(passages) > 1
    for passage in passages:
        assert len(passage.text) <= MAX_PASSAGE_CHARS
        assert passage.text.endswith("。")
    assert "".join(p.text for p in passages).replace(" ", "") == text.replace(" ", "")  # the headline opens it


def test_a_clause_over_the_bound_is_cut_into_parts_that_keep_its_article() -> None:
    long_clause = "1. 加大支持力度。" + "对符合条件的企业给予一次性补贴，补贴标准按照有关规定执行。" * 40
    text = "关于支持企业的若干措施 一、财政支持 " + long_clause + " 2. 简化流程。企业可在线申请。"
    _, passages = parse_notice("long", text, "long.txt")
    parts = [p for p in passages if p.article == "1"]
    assert len(parts) == -(-len(long_clause) // MAX_PASSAGE_CHARS) >= 2
    assert [p.part for p in parts] == [f"{n}/{len(parts)}" for n in range(1, len(parts) + 1)]
    assert [p.passage_id for p in parts] == [f"long:1.1.part{n}" for n in range(1, len(parts) + 1)]
    assert all(p.citation.endswith(f"({p.part})") and "第1条" in p.citation for p in parts)
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in parts)
    assert re.sub(r"\s", "", "".join(p.text for p in parts)) == re.sub(r"\s", "", long_clause)
    assert next(p for p in passages if p.article == "2").part is None


@pytest.mark.parametrize("bound", [50, 120, 300])
def test_parts_cover_the_text_in_order_within_the_bound(bound: int) -> None:
    text = "短句。" + "这是一个比较长的句子，用来检验切分是否按句子边界进行；" * 12 + "最后一句！"
    spans = part_spans(text, bound)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert all(end - start <= bound for start, end in spans)  # no whitespace here: characters are the size
    assert all(text[end - 1] in "。；！" for _, end in spans)
