"""The lines of a PDF page with where they sit on it, and the joining of lines that wrap inside a paragraph.

pypdf reports each run of text with the matrices it starts at and its font size. A line's right edge is its last
run's start plus the run's width, estimated in ems: a CJK glyph is one em wide in every CJK font, a Latin one about
half. The page's text block is the edges that several lines share, so one long line, a URL, does not set the width
that wrapped lines are compared with.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corpus import markers

if TYPE_CHECKING:
    from pypdf import PageObject

# A wrapped line ends within this many ems of the block's right edge: line breaking rules (no 。 at a line's start,
# a Latin word that does not fit) and the estimated widths leave full lines up to a glyph or two short.
_EDGE_SLACK_EMS = 2.0
# A line starting this many ems or more right of the block's left edge is indented: a paragraph's start.
_INDENT_EMS = 1.0
# The first line of a paragraph is indented by two ems; a line starting further right is centred or right-aligned
# (a title, a signature) and does not wrap into the next.
_FIRST_LINE_INDENT_EMS = 2.5
# Two lines end at the same edge when they end this close (in points): a full line of justified text ends on the
# block's edge, a ragged one within a glyph of it, and the widths are estimates.
_SHARED_EDGE_POINTS = 12.0
# A page number as official documents print it at a page's foot (- 2 -, — 2 —, 第2页) or bare.
_PAGE_NUMBER = re.compile(r"^[-－—–\s]*(第\s*)?[0-9０-９]{1,4}\s*(页)?[-－—–\s]*$")

# Some PDF writers (Chromium's among them) map CJK glyphs to the Kangxi radicals that look the same (⼀ U+2F00 for
# 一 U+4E00), which no numbering marker or query matches: they are read as the characters they stand for.
_RADICALS = {
    code: unicodedata.normalize("NFKC", chr(code))
    for code in (*range(0x2E80, 0x2EF4), *range(0x2F00, 0x2FD6))
    if unicodedata.normalize("NFKC", chr(code)) != chr(code)
}


@dataclass(frozen=True)
class PageLine:
    """One line of a page's text, with its left and right edges in points (None where pypdf gave no position)."""

    text: str
    left: float | None
    right: float | None
    em: float


def page_lines(page: PageObject) -> list[PageLine]:
    """The non-blank lines of ``page``'s text layer, in pypdf's reading order, with their positions."""
    lines: list[PageLine] = []
    text = ""
    left: float | None = None
    right: float | None = None
    em = 0.0
    placed = True  # False once a line holds text whose position pypdf did not report

    def end_line() -> None:
        nonlocal text, left, right, em, placed
        if text.strip():
            known = placed and left is not None
            lines.append(
                PageLine(text.strip().translate(_RADICALS), left if known else None, right if known else None, em)
            )
        text, left, right, em, placed = "", None, None, 0.0, True

    def visit(run: str, cm: list[float], tm: list[float], _font: Any, font_size: float) -> None:
        nonlocal text, left, right, em, placed
        x, scale = _start_and_scale(tm, cm)
        size = font_size * scale
        for i, piece in enumerate(run.split("\n")):
            if i:
                end_line()
                placed = not piece.strip()  # a later piece of a run starts at a position pypdf did not report
            text += piece
            visible = piece.lstrip()
            if i or not visible.strip():
                continue
            # pypdf's own spaces mark a gap it has already moved past; a full-width space is a glyph of the indent.
            start = x + size * _ems(piece[: len(piece) - len(visible)].replace(" ", ""))
            left = start if left is None else min(left, start)
            end = start + size * _ems(visible.rstrip())
            right = end if right is None else max(right, end)
            em = max(em, size)

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def join_wrapped(pages: list[list[PageLine]]) -> str:
    """The text of ``pages``, one paragraph a line: a line that spans its page's text block is joined to the line
    after it, on the same page or the next, unless that one starts a paragraph (it is indented or opens with a
    numbering marker) or the line is a title. Page numbers at the head or foot of a page are left out."""
    paragraphs: list[list[str]] = []
    previous: tuple[PageLine, _Block | None] | None = None
    for lines in pages:
        block = _text_block(lines)
        for i, line in enumerate(lines):
            if i in (0, len(lines) - 1) and _PAGE_NUMBER.match(line.text):
                continue
            if previous is not None and block is not None and _wraps_into(*previous, line, block):
                paragraphs[-1].append(line.text)
            else:
                paragraphs.append([line.text])
            previous = (line, block)
    return "\n".join("".join(paragraph) for paragraph in paragraphs)


@dataclass(frozen=True)
class _Block:
    """The left and right edges of a page's text block, in points."""

    left: float
    right: float


def _text_block(lines: list[PageLine]) -> _Block | None:
    """The edges of the page's text block: the leftmost start and the rightmost end that at least two lines share
    (a lone long line, a URL or a title, sets neither), or the page's extremes when no two lines share one."""
    placed = [line for line in lines if line.left is not None and line.right is not None]
    if not placed:
        return None
    lefts = [line.left for line in placed if line.left is not None]
    rights = [line.right for line in placed if line.right is not None]
    shared_lefts = [left for left in lefts if sum(abs(other - left) <= _SHARED_EDGE_POINTS for other in lefts) > 1]
    shared_rights = [
        right for right in rights if sum(abs(other - right) <= _SHARED_EDGE_POINTS for other in rights) > 1
    ]
    return _Block(min(shared_lefts or lefts), max(shared_rights or rights))


def _wraps_into(line: PageLine, block: _Block | None, following: PageLine, following_block: _Block) -> bool:
    if block is None or line.left is None or line.right is None or following.left is None:
        return False
    return (
        line.right >= block.right - _EDGE_SLACK_EMS * line.em
        and line.left < block.left + _FIRST_LINE_INDENT_EMS * line.em
        and following.left < following_block.left + _INDENT_EMS * following.em
        and markers.parse_marker(following.text) is None
        and markers.notice_title(line.text) is None
    )


def _start_and_scale(tm: list[float], cm: list[float]) -> tuple[float, float]:
    """Where a run starts on the page (x, in points) and how much its text is scaled: the text matrix in the
    page's space (``tm`` × ``cm``)."""
    a = tm[0] * cm[0] + tm[1] * cm[2]
    b = tm[0] * cm[1] + tm[1] * cm[3]
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    return x, math.hypot(a, b)


def _ems(text: str) -> float:
    """The estimated width of ``text`` in ems: wide (CJK, full-width) characters one em, others half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)
