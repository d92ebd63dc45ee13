"""Cut a notice's text into segments, the units the parser walks.

A segment is a line of the text, or a piece of one: notices scraped from portals often
come as one long line with their numbering inline (``…提出以下要求。 一、支持疫情防控物资供应 对生产…``),
so a line is cut again wherever a numbered clause starts in running text, and wherever
the whitespace left by joined lines marks a paragraph break (after a sentence, or a run
of spaces). A marker inside running text counts only after a boundary (the line's start,
whitespace, or a sentence's, list's or bracket's end; a (一) needs none, as it is distinctive
and headings run straight into it) and only when it continues the numbering of its level
(``3、`` after ``2、``, or a new list's ``1、``), so 1.5倍, 2020年, 第一季度, 3.5亿元 and a
cross-reference stay in their sentence.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import NamedTuple

from corpus import markers
from corpus.markers import Level

_SPACE = " \t\u3000\u00a0\ufeff"
# Where a paragraph break survives as whitespace inside a line: after a sentence or a
# colon, after a notice title or a signing date, before page furniture, an attachment or a
# ``组长:`` label, or a run of spaces.
_PARAGRAPH_BREAK = re.compile(
    rf"(?<=[。；;！!？?:：])[{_SPACE}]+"
    rf"|(?:(?<=的通知)|(?<=的决定)|(?<=的意见)|(?<=的解读)|(?<=实施方案)|(?<=实施细则)|(?<=管理办法)|(?<=公告)|(?<=通告))"
    rf"[{_SPACE}]+(?![的和及与])"
    rf"|(?<=[0-9〇零一二三四五六七八九十]日)[{_SPACE}]+"
    rf"|[{_SPACE}]+(?=(?:[0-9]{{4}}|[〇零一二三四五六七八九]{{4}})年[0-9一二三四五六七八九十]{{1,3}}月[0-9一二三四五六七八九十]{{1,3}}日(?:[{_SPACE}]|$))"
    rf"|[{_SPACE}]+(?=(?:发布时间|发布日期|当前位置|您的位置|回到顶部|返回顶部)[:：]?)"
    rf"|(?<=点击)[:：]\s*\d+[{_SPACE}]+"
    rf"|[{_SPACE}]+(?=附件[0-9]?[{_SPACE}])|(?:(?<=[{_SPACE}]附件)|(?<=[{_SPACE}]附件[0-9]))[{_SPACE}]+"
    rf"|(?<!\s[\u4e00-\u9fff])(?<!^[\u4e00-\u9fff])(?<![{_SPACE}])[{_SPACE}]+(?=[\u4e00-\u9fff][\u4e00-\u9fff ]{{0,5}}[:：])"
    rf"|[{_SPACE}]{{3,}}"
)
# A heading that runs into its clause's text with only whitespace between: 一、支持疫情防控物资供应 对生产…
_HEADING_THEN_TEXT = re.compile(rf"[^{_SPACE}。；;！!？?:：，,]{{2,30}}[{_SPACE}]+(?=\S)")
# What may stand right before a numbering marker in running text (a clause's 责任单位 note ends in a bracket);
# a (一) marker is distinctive enough to need nothing before it.
_BEFORE_MARKER = re.compile(rf"[{_SPACE}。；;！!？?:：)）]")
_NEEDS_NO_BOUNDARY = (Level.SUBPART,)
_MARKER_START = re.compile(r"[(（第〇零一二三四五六七八九十百两0-9０-９①-⑳]")
# "第三条规定的…", "一、二级响应": references and ranges, not markers.
_NOT_AFTER_ARTICLE = re.compile(r"^[规所的之中第款项]")
_RANGE_AFTER_PART = re.compile(r"^[〇零一二三四五六七八九十]+[、,，级类档]")


class Segment(NamedTuple):
    """A stripped piece of the text, with its offsets in the text; ``numbered`` when it opens with a marker."""

    text: str
    start: int
    end: int
    numbered: bool = False


def split_segments(text: str) -> list[Segment]:
    """The non-empty segments of ``text`` in reading order."""
    segments: list[Segment] = []
    numbering: dict[Level, int] = {}
    for line in re.finditer(r"[^\r\n]+", text):
        marked, headings = _markers(text, line.start(), line.end(), numbering)
        breaks = {match.end() for match in _PARAGRAPH_BREAK.finditer(text, line.start(), line.end())}
        cuts = {line.start()} | marked | headings | breaks
        for start, end in pairwise([*sorted(cuts), line.end()]):
            segment = _stripped(text, start, end, marked)
            if segment is not None:
                segments.append(segment)
    return segments


def _markers(text: str, start: int, end: int, numbering: dict[Level, int]) -> tuple[set[int], set[int]]:
    """Where in ``text[start:end]`` numbered clauses begin, and where text follows their heading after a space.

    Updates ``numbering``, the last number seen at each level.
    """
    marked: set[int] = set()
    headings: set[int] = set()
    first = start + len(text[start:end]) - len(text[start:end].lstrip(_SPACE))
    for match in _MARKER_START.finditer(text, start, end):
        at = match.start()
        marker = markers.parse_marker(text[at:end])
        if marker is None:
            continue
        if at != first and marker.level not in _NEEDS_NO_BOUNDARY and not _BEFORE_MARKER.match(text, at - 1):
            continue
        if at != first and not _continues(marker, numbering):
            continue
        numbering[marker.level] = marker.number
        marked.add(at)
        heading = _HEADING_THEN_TEXT.match(text, end - len(marker.rest), end)
        if heading:
            headings.add(heading.end())
    return marked, headings


def _continues(marker: markers.Marker, numbering: dict[Level, int]) -> bool:
    """True for a marker in running text that starts or continues the numbering of its level."""
    if marker.number not in (1, numbering.get(marker.level, 0) + 1):
        return False
    if marker.level == Level.ARTICLE:
        return not _NOT_AFTER_ARTICLE.match(marker.rest)
    if marker.level == Level.PART:
        return marker.label.endswith("、") and not _RANGE_AFTER_PART.match(marker.rest)
    return True


def _stripped(text: str, start: int, end: int, marked: set[int]) -> Segment | None:
    raw = text[start:end]
    stripped = raw.strip(_SPACE)
    if not stripped:
        return None
    begin = start + raw.index(stripped)
    return Segment(stripped, begin, begin + len(stripped), begin in marked)
