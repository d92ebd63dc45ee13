"""PDF lines that wrap inside a paragraph are joined by where they sit on the page, not by how many characters
they hold: a page with one long URL line keeps its paragraphs whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus import load_notice

FONT = "STSong-Light"
BODY_SIZE = 14.0
TITLE_SIZE = 18.0
LEFT = 90.0
BLOCK_WIDTH = 28 * BODY_SIZE  # 28 CJK characters a line, as on an official A4 notice
# Characters that may not open a line (Chinese line breaking): the glyph before them moves down with them.
NO_LINE_START = "，。、；：？！）》”%"
URL = "https://zwfw.example.gov.cn/policy/smes/2021/support-measures/apply-guide.html?channel=notice&source=pdf"

TITLE = "某市人民政府关于进一步支持中小企业稳定发展的通知"
NUMBER = "某政发〔2021〕12号"
SALUTATION = "各区人民政府，市政府各部门："
# 54 CJK characters: with its two-em indent it fills its second line to the block's right edge.
FLUSH_PARAGRAPH = (
    "本通知所称中小企业，是指在本市依法登记注册、符合国家中小企业划型标准的企业，以及个体工商户参照执行市场主体。"
)
INTRO = "各区、各部门要加强政策宣传解读，主动向企业推送政策信息，确保各项措施及时落地见效。"
RENT = (
    "（一）减免房屋租金。中小企业承租市属国有企业经营性房产的，2021年免收3个月租金、减半收取6个月租金；"
    "转租的，由出租方确保减免惠及实际经营者。"
)
ENERGY = (
    "（二）降低用电用气成本。对中小企业生产经营所需的用电、用气，在2021年12月31日前实行阶段性降价，"
    "降价幅度不低于5%，具体办法由市发展改革委另行制定。"
)
ONLINE = "（一）推行网上办理。企业申请本通知各项扶持的，可通过市政务服务网在线提交材料，申报材料和办理流程详见："
DEADLINE = (
    "（二）压缩办理时限。各部门受理企业申请后，应在5个工作日内完成审核，符合条件的10个工作日内兑现资金，"
    "不得要求企业重复提交材料。"
)
CLOSING = "本通知自印发之日起施行，有效期至2022年12月31日，各区可结合实际制定具体实施办法。"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the generated notice and how it is set: "title" and "centre" centred, "plain" at the margin,
    "body" wrapped with a two-em first-line indent, "url" at the margin on one line that does not break,
    "signature" right-aligned."""

    text: str
    setting: str


NOTICE = [
    Paragraph(TITLE, "title"),
    Paragraph(NUMBER, "centre"),
    Paragraph(SALUTATION, "plain"),
    Paragraph(FLUSH_PARAGRAPH, "body"),
    Paragraph(INTRO, "body"),
    Paragraph("一、减轻企业负担", "body"),
    Paragraph(RENT, "body"),
    Paragraph(ENERGY, "body"),
    Paragraph("二、优化政务服务", "body"),
    Paragraph(ONLINE, "body"),
    Paragraph(URL, "url"),
    Paragraph(DEADLINE, "body"),
    Paragraph("三、其他事项", "body"),
    Paragraph(CLOSING, "body"),
    Paragraph("某市人民政府", "signature"),
    Paragraph("2021年3月15日", "signature"),
]


def wrap(text: str, first_line_room: float) -> list[str]:
    """``text`` broken into lines of the block's width, the first ``first_line_room`` points wide."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line, room = [], "", first_line_room
    for ch in text:
        if stringWidth(line + ch, FONT, BODY_SIZE) <= room:
            line += ch
        elif ch in NO_LINE_START:
            lines.append(line[:-1])
            line, room = line[-1] + ch, BLOCK_WIDTH
        else:
            lines.append(line)
            line, room = ch, BLOCK_WIDTH
    return [*lines, line]


def typeset(path: Path, paragraphs: list[Paragraph], lines_per_page: int = 40) -> list[tuple[str, float]]:
    """Write ``paragraphs`` to an A4 PDF as a portal's notice is set, with a page number at each page's foot;
    return its lines and their right edges."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    page = canvas.Canvas(str(path), pagesize=A4)
    y = A4[1] - 72
    drawn: list[tuple[str, float]] = []
    for paragraph in paragraphs:
        size = TITLE_SIZE if paragraph.setting == "title" else BODY_SIZE
        indent = 2 * BODY_SIZE if paragraph.setting == "body" else 0.0
        lines = wrap(paragraph.text, BLOCK_WIDTH - indent) if paragraph.setting == "body" else [paragraph.text]
        for i, line in enumerate(lines):
            width = pdfmetrics.stringWidth(line, FONT, size)
            x = {
                "title": LEFT + (BLOCK_WIDTH - width) / 2,
                "centre": LEFT + (BLOCK_WIDTH - width) / 2,
                "signature": LEFT + BLOCK_WIDTH - width,
            }.get(paragraph.setting, LEFT + (indent if i == 0 else 0.0))
            if len(drawn) and len(drawn) % lines_per_page == 0:
                page.setFont(FONT, BODY_SIZE)
                page.drawCentredString(LEFT + BLOCK_WIDTH / 2, 40, f"— {page.getPageNumber()} —")
                page.showPage()
                y = A4[1] - 72
            page.setFont(FONT, size)
            page.drawString(x, y, line)
            drawn.append((line, x + width))
            y -= size * 1.6
    page.save()
    return drawn


def test_paragraphs_on_a_page_with_a_long_url_line_come_out_whole(tmp_path: Path) -> None:
    drawn = typeset(tmp_path / "sme-support.pdf", NOTICE)
    # The premises: paragraphs wrap over several lines, the URL runs past the block's right edge and holds the most
    # characters of any line, and one paragraph ends flush at the edge before an indented paragraph.
    assert len(drawn) >= len(NOTICE) + 6
    url_right = dict(drawn)[URL]
    assert url_right > LEFT + BLOCK_WIDTH + 4 * BODY_SIZE
    assert max(len(line) for line, _ in drawn) == len(URL) > 2 * max(len(line) for line, _ in drawn if line != URL)
    flush_last_line = wrap(FLUSH_PARAGRAPH, BLOCK_WIDTH - 2 * BODY_SIZE)[-1]
    assert dict(drawn)[flush_last_line] >= LEFT + BLOCK_WIDTH - BODY_SIZE

    notice = load_notice(tmp_path / "sme-support.pdf")

    assert notice.document.text.splitlines() == [paragraph.text for paragraph in NOTICE]
    assert notice.document.title == TITLE
    clauses = {p.passage_id.split(":")[1]: p.text for p in notice.passages}
    # The 文号 and salutation open the paragraph after them.
    assert list(clauses) == ["p1", "p2", "1.1", "1.2", "2.1", "2.2", "3.p1", "3.p2"]
    assert [clauses[key] for key in ("p1", "p2", "1.1", "1.2", "2.2", "3.p1")] == [
        f"{NUMBER}\n{SALUTATION}\n{FLUSH_PARAGRAPH}",
        INTRO,
        RENT,
        ENERGY,
        DEADLINE,
        CLOSING,
    ]
    assert clauses["2.1"].split() == [ONLINE, URL]


def test_lines_in_a_bigger_font_or_off_the_margin_are_not_joined(tmp_path: Path) -> None:
    # A title set on two centred lines in a bigger font, a full line and a right-aligned signature under it.
    title_lines = ["某市人民政府办公室关于印发支持中小企业", "稳定发展若干措施的通知"]
    paragraphs = [
        *(Paragraph(line, "title") for line in title_lines),
        Paragraph(SALUTATION, "plain"),
        Paragraph(FLUSH_PARAGRAPH, "body"),
        Paragraph(RENT, "body"),
        Paragraph("某市人民政府办公室", "signature"),
        Paragraph("2021年3月15日", "signature"),
    ]
    typeset(tmp_path / "measures.pdf", paragraphs)
    lines = load_notice(tmp_path / "measures.pdf").document.text.splitlines()
    assert lines == [*title_lines, SALUTATION, FLUSH_PARAGRAPH, RENT, "某市人民政府办公室", "2021年3月15日"]


def test_a_paragraph_runs_on_over_a_page_break_and_kangxi_radicals_read_as_characters(tmp_path: Path) -> None:
    # Some PDF writers map 一 to the Kangxi radical ⼀ (U+2F00) that looks the same: it must still open a clause,
    # and so still stop the flush line above it (set at the margin, not indented) from running into it.
    body = [RENT, ENERGY, DEADLINE.replace("（二）", "（三）"), FLUSH_PARAGRAPH]
    paragraphs = [
        Paragraph(TITLE, "title"),
        Paragraph("\u2f00、减轻企业负担", "body"),
        *(Paragraph(text, "body") for text in body),
        Paragraph("\u2f06、优化政务服务", "plain"),
        Paragraph(ONLINE, "body"),
    ]
    drawn = typeset(tmp_path / "two-pages.pdf", paragraphs, lines_per_page=6)
    first_lines = {wrap(text, BLOCK_WIDTH - 2 * BODY_SIZE)[0] for text in body}
    assert drawn[6][0] not in first_lines  # the premise: page 2 opens mid-paragraph, under page 1's number

    notice = load_notice(tmp_path / "two-pages.pdf")

    assert notice.document.text.splitlines() == [TITLE, "一、减轻企业负担", *body, "二、优化政务服务", ONLINE]
    clauses = {p.passage_id.split(":")[1]: p.text for p in notice.passages}
    assert list(clauses) == ["1.1", "1.2", "1.3", "2.1"]
    assert [clauses["1.1"], clauses["1.2"], clauses["2.1"]] == [RENT, ENERGY, ONLINE]
