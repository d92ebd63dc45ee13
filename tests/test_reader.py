"""Other notices of the family: 第X条 articles in GBK, a saved portal page, text with no numbering; and bad files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from corpus import CorpusError, NoticeFileError, load_corpus, load_notice, loader
from corpus.loader import file_fingerprint
from tests.conftest import FIXTURES


def test_gbk_regulation_with_chapters_and_articles() -> None:
    path = FIXTURES / "nanning-cross-border-ecommerce-gbk.txt"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    notice = load_notice(path)
    document = notice.document
    assert document.citation_title == "南宁市跨境电子商务发展促进办法"
    assert (document.identity.issuer, document.identity.date) == ("南宁市人民政府办公室", "2021-03-15")
    articles = [p for p in notice.passages if p.article]
    assert [p.article for p in articles] == ["1", "2", "3", "4", "5", "6"]
    article3 = articles[2]
    assert article3.section_path == ("第二章 扶持措施",)
    # The items of an article belong to it, full-width digits and all.
    assert "（二）年进出口额达到５０００万元的，奖励５０万元。" in article3.text
    assert articles[3].title == "支持企业建设海外仓"
    assert (
        articles[3].citation
        == "《南宁市跨境电子商务发展促进办法》（南宁市人民政府办公室）第二章 第4条 支持企业建设海外仓"
    )
    for passage in notice.passages:
        assert document.text[passage.start : passage.end] == passage.text


def test_saved_portal_page_drops_chrome_and_keeps_the_hierarchy() -> None:
    notice = load_notice(FIXTURES / "chongzuo-border-trade-measures.html")
    document = notice.document
    assert document.title == "崇左市人民政府关于支持边境贸易创新发展的若干措施"
    assert document.identity.date == "2021-06-08"
    text = "\n".join(p.text for p in notice.passages)
    for chrome in ("当前位置", "点击数", "回到顶部", "网站地图", "版权所有", "var hits", "font-size", "政务公开"):
        assert chrome not in text
    lead = next(p for p in notice.passages if p.passage_id.endswith(":2.1"))
    assert lead.title == "提升边民互市贸易便利化水平"
    assert lead.section_path == ("二、重点任务",)
    item = next(p for p in notice.passages if p.passage_id.endswith(":2.1.2"))
    assert item.article == "2"
    assert item.section_path == ("二、重点任务", "（一）提升边民互市贸易便利化水平")
    assert "先放后检" in item.text  # inline markup does not split a clause
    subsidy = next(p for p in notice.passages if p.passage_id.endswith(":2.2.1"))
    assert "（1）补贴资金" in subsidy.text and "（2）补贴每年申报一次" in subsidy.text
    safeguard = notice.passages[-1]
    assert safeguard.responsible_units == ("市商务局", "财政局", "各县（市、区）人民政府")
    for passage in notice.passages:
        assert document.text[passage.start : passage.end] == passage.text


def test_text_without_markers_falls_back_to_paragraphs() -> None:
    notice = load_notice(FIXTURES / "export-tax-rebate-service.txt")
    assert notice.document.title == "关于做好2022年度外贸企业出口退税服务工作的通知"
    assert len(notice.passages) == 5
    assert all(p.article is None and p.section_path == () for p in notice.passages)
    assert notice.passages[1].citation == "《关于做好2022年度外贸企业出口退税服务工作的通知》第2段"
    assert "容缺办理" in notice.passages[1].text


def test_whole_fixture_corpus_loads_with_unique_ids() -> None:
    corpus = load_corpus(FIXTURES)
    assert corpus.errors == []
    assert len(corpus.notices) == 3
    ids = [p.passage_id for p in corpus.passages]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b" \n\r\n\t  \n", "is empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary file"),
        ("undecodable.txt", "政策".encode() + b"\xff\xfe\xfa\x80\x80" + "法规".encode(), "neither UTF-8 nor GB18030"),
        (
            "no-text.html",
            b"<html><head><title>x</title></head><body><script>1</script><p> </p></body></html>",
            "no text",
        ),
        ("punctuation.txt", "。，、；：！？\n——\n".encode(), "no text"),
    ],
)
def test_bad_files_get_an_error_naming_the_file_and_the_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NoticeFileError) as caught:
        load_notice(path)
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)


def test_a_bad_file_is_reported_and_the_good_ones_still_parse(corpus_copy: Path) -> None:
    (corpus_copy / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    corpus = load_corpus(corpus_copy)
    assert [error.path for error in corpus.errors] == [str(corpus_copy / "broken.txt")]
    assert len(corpus.notices) == 1


def test_a_file_the_parser_trips_on_is_named_and_the_others_still_parse(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = loader.parse_notice

    def tripping(doc_id: str, *args: Any) -> Any:
        if doc_id == "tripping":
            raise IndexError("list index out of range")
        return parse(doc_id, *args)

    monkeypatch.setattr(loader, "parse_notice", tripping)
    (corpus_copy / "tripping.txt").write_text("一、第一条。\n", encoding="utf-8")
    corpus = load_corpus(corpus_copy)
    assert [(error.path, error.reason) for error in corpus.errors] == [
        (str(corpus_copy / "tripping.txt"), "could not be parsed (IndexError: list index out of range)")
    ]
    assert len(corpus.notices) == 1


def test_unusable_corpus_directories(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "missing")
    (tmp_path / "readme.md").write_text("not a notice")
    with pytest.raises(CorpusError, match="contains no notice files"):
        load_corpus(tmp_path)


def word_notice(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    """A .docx notice written with python-docx, as a portal's attachment would be."""
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(path)
    return path


def pdf_notice(path: Path, lines: list[str]) -> Path:
    """A PDF with a text layer in a CJK font, one drawn line per entry (reportlab's built-in STSong-Light)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 11)
    for i, line in enumerate(lines):
        page.drawString(40, 800 - 16 * i, line)
    page.save()
    return path


NOTICE_PARAGRAPHS = [
    "某市人民政府办公室关于支持小微企业复工复产的通知",
    "某政办发〔2020〕9号",
    "一、减轻税费负担",
    "（一）对受疫情影响较大的小微企业，免征2020年第一季度房产税和城镇土地使用税。",
    "（二）小微企业可申请延期缴纳税款，最长不超过3个月。",
    "二、加大金融支持",
    "对符合条件的小微企业，贷款利率下浮1.5个百分点。",
]


def test_word_notice_keeps_its_structure_number_and_tables(tmp_path: Path) -> None:
    path = word_notice(tmp_path / "smb-support.docx", NOTICE_PARAGRAPHS, [["咨询电话", "0771-1234567"]])
    notice = load_notice(path)
    assert notice.document.title == "某市人民政府办公室关于支持小微企业复工复产的通知"
    assert notice.document.identity.number == "某政办发〔2020〕9号"
    by_key = {p.passage_id.split(":")[1]: p for p in notice.passages}
    assert by_key["1.1"].section_path == ("一、减轻税费负担",)
    assert by_key["1.2"].text == "（二）小微企业可申请延期缴纳税款，最长不超过3个月。"
    assert any("咨询电话 0771-1234567" in p.text for p in notice.passages)
    as_text = tmp_path / "smb-support.txt"
    as_text.write_text(notice.document.text, encoding="utf-8")
    assert [p.passage_id for p in load_notice(as_text).passages] == [p.passage_id for p in notice.passages]


def test_pdf_notice_is_read_from_its_text_layer_with_wrapped_lines_joined(tmp_path: Path) -> None:
    # The first clause wraps onto a second line at the page's width, mid-sentence.
    lines = [*NOTICE_PARAGRAPHS[:3], "（一）对受疫情影响较大的小微企业，免征2020年第一", "季度房产税和城镇土地使用税。"]
    notice = load_notice(pdf_notice(tmp_path / "smb-support.pdf", [*lines, *NOTICE_PARAGRAPHS[4:]]))
    by_key = {p.passage_id.split(":")[1]: p for p in notice.passages}
    assert notice.document.title == NOTICE_PARAGRAPHS[0]
    assert by_key["1.1"].text == NOTICE_PARAGRAPHS[3]
    assert by_key["1.1"].section_path == ("一、减轻税费负担",)
    assert "贷款利率下浮1.5个百分点" in by_key["2.p1"].text


def test_scanned_damaged_and_locked_office_files_are_named_with_the_reason(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    scanned = canvas.Canvas(str(tmp_path / "scanned.pdf"))
    scanned.rect(40, 40, 500, 700, fill=1)  # an image of a page: no text to extract
    scanned.save()
    (tmp_path / "truncated.pdf").write_bytes(pdf_notice(tmp_path / "whole.pdf", ["一、总体要求"]).read_bytes()[:300])
    (tmp_path / "whole.pdf").unlink()
    (tmp_path / "not-a-zip.docx").write_bytes(b"PK\x03\x04 this is no Word document")
    reasons = {
        "scanned.pdf": "a PDF without a text layer (a scanned page needs OCR",
        "truncated.pdf": "is not a readable PDF",
        "not-a-zip.docx": "is not a readable .docx file (BadZipFile",
    }
    for name, reason in reasons.items():
        with pytest.raises(NoticeFileError, match=re.escape(reason)) as caught:
            load_notice(tmp_path / name)
        assert caught.value.path.endswith(name)
    corpus = load_corpus(tmp_path)
    assert not corpus.notices
    assert sorted(Path(error.path).name for error in corpus.errors) == sorted(reasons)


def test_a_notice_s_source_page_comes_from_its_sidecar_or_its_canonical_link(tmp_path: Path) -> None:
    text = "\n\n".join(NOTICE_PARAGRAPHS)
    plain = tmp_path / "smb-support.txt"
    plain.write_text(text, encoding="utf-8")
    unlinked = file_fingerprint(plain)
    assert load_notice(plain).document.identity.source_url is None
    (tmp_path / "smb-support.txt.url").write_text("https://www.example.gov.cn/zwgk/smb.html\n", encoding="utf-8")
    notice = load_notice(plain)
    assert notice.document.identity.source_url == "https://www.example.gov.cn/zwgk/smb.html"
    assert {p.identity.source_url for p in notice.passages} == {"https://www.example.gov.cn/zwgk/smb.html"}
    assert notice.fingerprint != unlinked  # a new source link indexes the notice again

    paragraphs = "".join(f"<p>{line}</p>" for line in NOTICE_PARAGRAPHS)
    page = tmp_path / "smb-page.html"
    page.write_text(
        f'<html><head><link rel="canonical" href="https://www.example.gov.cn/art/smb.htm"></head><body>{paragraphs}</body></html>',
        encoding="utf-8",
    )
    assert load_notice(page).document.identity.source_url == "https://www.example.gov.cn/art/smb.htm"
    page.write_text(
        f'<html><head><link rel="canonical" href="javascript:alert(1)"></head><body>{paragraphs}</body></html>'
    )
    assert load_notice(page).document.identity.source_url is None  # only a web page's address
