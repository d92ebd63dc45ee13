"""Recognise what one line of a notice is: a numbered marker, a date, page chrome, an attachment heading.

Markers accept full- and half-width punctuation and digits, since notices mix both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

# The longest a title, heading or short label line may be: longer, it is a sentence of a clause.
TITLE_MAX_CHARS = 40
_CN_VALUE = {ch: i for i, ch in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_DIGITS = "〇零一二三四五六七八九"
_CN = "[〇零一二三四五六七八九十百两]+"
_NUM = "[0-9０-９]+"
_OPEN = "[(（]"
_CLOSE = "[)）]"


class Level(IntEnum):
    """Depth of a marker in the usual hierarchy of a Chinese notice (smaller is higher)."""

    CHAPTER = 0  # 第一章
    SECTION = 1  # 第一节
    PART = 2  # 一、
    SUBPART = 3  # (一)
    ITEM = 4  # 1.
    SUBITEM = 5  # (1)
    CIRCLED = 6  # ①
    ARTICLE = 7  # 第一条: an article owns everything below it up to the next article


@dataclass(frozen=True)
class Marker:
    """A numbered marker at the start of a line, e.g. ``(二)`` with number 2 and the text after it."""

    level: Level
    label: str
    number: int
    rest: str


_MARKER_PATTERNS: tuple[tuple[Level, re.Pattern[str]], ...] = (
    (Level.CHAPTER, re.compile(rf"^(第({_CN}|{_NUM})章)\s*")),
    (Level.SECTION, re.compile(rf"^(第({_CN}|{_NUM})节)\s*")),
    (Level.ARTICLE, re.compile(rf"^(第({_CN}|{_NUM})条)\s*")),
    (Level.PART, re.compile(rf"^(({_CN})[、,，])\s*")),
    (Level.SUBPART, re.compile(rf"^({_OPEN}({_CN}){_CLOSE})\s*")),
    (Level.ITEM, re.compile(rf"^(({_NUM})(?:[.．](?![0-9０-９])|、))\s*")),
    (Level.SUBITEM, re.compile(rf"^({_OPEN}({_NUM}){_CLOSE})\s*")),
    (Level.CIRCLED, re.compile(r"^(([①-⑳]))\s*")),
)

_CHROME = re.compile(
    r"^(当前位置|您的位置|首页\s*[>›»]|回到顶部|返回顶部|打印本页|关闭窗口|【?打印】?$|【?关闭】?$|分享到|扫一扫|"
    r"网站地图|版权所有|(来源|发布时间|发布日期)\s*[:：]|主办单位|承办单位|技术支持|联系我们|责任编辑|.*ICP备)"
    r"|点击(数|量|率|次数)?\s*[:：]\s*\d+|字体\s*[:：]?\s*【?大】?\s*【?中】?\s*【?小】?"
    # a news page's links to more reading, and a report's byline or reprint note on a line of its own
    r"|^[>》»\s]*(详细阅读|延伸阅读|相关阅读|相关新闻|新闻多一点)\s*[>》»:：]*$|^[(（](记者|转自)[^)）]{1,16}[)）]$|^新华社发$"
)
# Page furniture a page scraped into one line runs into the text: (河南日报记者 曹萍）责任编辑：银新玉 after the last
# sentence, 【 打印本页】 【 关闭窗口】 after the signing date, 扫一扫在手机打开当前页 (相关解读).
_FURNITURE = re.compile(
    r"(?:[(（][^()（）]{0,20}记者[^()（）]{0,20}[)）]\s*)?责任编辑\s*[:：]\s*[^\s，。；,;]{1,8}"
    r"|【\s*(?:打印本页|关闭窗口)\s*】|扫一扫在手机打开当前页(?:[ \t\u3000]*相关解读(?=[ \t\u3000]*(?:[\r\n]|$)))?"
)
_PUBLISHED = re.compile(r"(发布时间|发布日期|发文日期|日期)\s*[:：]\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_DATE_LINE = re.compile(rf"^([0-9０-９]{{4}}|[{_CN_DIGITS}]{{4}})年({_NUM}|{_CN})月({_NUM}|{_CN})日$")
# A 文号's prefix (京政办发, 人社部发) starts where the Chinese before it ends: 天津市卫健委津卫医政【2020】100号 in
# running text cites another's number, as does 2财税〔2019〕24号 in a table, run into its row's number.
_DOCUMENT_NUMBER = re.compile(
    r"(?<![\u4e00-\u9fff0-9A-Za-z])([\u4e00-\u9fff]{1,8})[〔\[【(（](\d{4})[〕\]】)）]\s*(\d{1,4})号"
)
# Words of a sentence, which no organ's abbreviation holds: 税务总局还发布了〔2020〕6号 reports a number.
_SENTENCE_WORDS = re.compile(r"[了的还是在将据和与及等]|发布|印发|下发")
_ANNEX_HEADING = re.compile(rf"^附\s*件\s*({_NUM})?$")
_ANNEX_LISTING = re.compile(rf"^附\s*件\s*({_NUM})?\s*[:：]\s*(.+)$")
_SENTENCE_END = re.compile(r"[。；;！!？?]")
_NOTICE_TITLE = re.compile(
    r"(关于.+的(通知|决定|意见|批复|公告|通告|函)|(办法|规定|条例|细则|方案|规划|意见|通知|公告|通告|决定|解读|措施|指南))$"
)
# A title at the end of a line that holds page text before it: "当前位置:首页 政策法规 广西…关于印发…的通知".
_TRAILING_TITLE = re.compile(r"(?:^|\s)(\S*关于.{2,90}的(?:通知|决定|意见|批复|公告|通告|函))$")
# A title a page prints in brackets above the notice's own heading: （关于…的公告）.
_IN_BRACKETS = re.compile(r"^[（(]\s*(关于[^（()）]+)\s*[）)]$")
_OPENING = re.compile(r"([^\s。；;！!？?]+)")
_LABEL = re.compile(r"^([\u4e00-\u9fff][\u4e00-\u9fff\s]{0,5})[:：]")


def parse_marker(line: str) -> Marker | None:
    """Return the numbered marker that starts ``line``, or None."""
    for level, pattern in _MARKER_PATTERNS:
        match = pattern.match(line)
        if match:
            return Marker(level, match.group(1), to_int(match.group(2)), line[match.end() :])
    return None


def to_int(numeral: str) -> int:
    """Convert an Arabic (half- or full-width) or Chinese numeral up to 999 to an int."""
    if "①" <= numeral <= "⑳":  # str.isdigit() is true for these, int() fails on them
        return ord(numeral) - ord("①") + 1
    if numeral.isdigit():
        return int(numeral)
    if "十" not in numeral and "百" not in numeral:  # digit by digit: 二〇二〇
        return int("".join(str(_CN_VALUE[ch]) for ch in numeral))
    total, digit = 0, 0
    for ch in numeral:
        if ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
        else:
            digit = _CN_VALUE[ch]
    return total + digit


def without_page_furniture(text: str) -> str:
    """``text`` with the page furniture run into its lines blanked out: the same length, so offsets into it hold."""
    return _FURNITURE.sub(lambda match: " " * len(match.group()), text)


def is_page_chrome(line: str) -> bool:
    """True for a line that belongs to a web page's furniture (breadcrumbs, hit counters, 回到顶部)."""
    return bool(_CHROME.search(line)) and len(line) <= 80


def published_date(line: str) -> str | None:
    """The ISO date of a ``发布时间:2020-02-20`` line, or None."""
    match = _PUBLISHED.search(line)
    if not match or len(line) > 120:
        return None
    year, month, day = (int(g) for g in match.groups()[1:])
    return f"{year:04d}-{month:02d}-{day:02d}"


def signing_date(line: str) -> str | None:
    """The ISO date of a line that is only a date, such as ``2020年1月22日`` or ``二〇二〇年一月二十二日``."""
    match = _DATE_LINE.match(line.replace(" ", ""))
    if not match:
        return None
    year, month, day = (to_int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def document_number(text: str) -> str | None:
    """The notice's own document number (文号, 桂政发〔2020〕5号) near its start; a number cited in brackets, or
    reported in a sentence, is not it."""
    for match in _DOCUMENT_NUMBER.finditer(text, 0, 800):
        cited = re.search(r"[(（《》]$", text[max(match.start() - 1, 0) : match.start()])
        if not cited and not _SENTENCE_WORDS.search(match.group(1)):
            prefix, year, serial = match.groups()
            return f"{prefix}〔{year}〕{serial}号"  # as a citation writes it, whatever brackets the page used
    return None


def annex_heading(line: str) -> str | None:
    """For a line that opens an attachment (``附件`` or ``附件2``), its label; else None."""
    match = _ANNEX_HEADING.match(line)
    return f"附件{match.group(1) or ''}" if match else None


def annex_listing(line: str) -> tuple[str, str] | None:
    """For a ``附件:标题`` line that lists an attachment, its label and title; else None."""
    match = _ANNEX_LISTING.match(line)
    return (f"附件{match.group(1) or ''}", match.group(2).strip()) if match else None


def notice_title(line: str) -> str | None:
    """The title of a notice (关于…的通知, …办法, …方案) that ``line`` is, or ends with after page text."""
    if _SENTENCE_END.search(line):
        return None
    line = _IN_BRACKETS.sub(r"\1", line)
    match = _TRAILING_TITLE.search(line)
    if match:
        return match.group(1)
    return line if len(line) <= 100 and _NOTICE_TITLE.search(line) else None


def has_sentence(line: str) -> bool:
    """True when ``line`` holds a sentence's end (。；！？), i.e. it is text rather than a heading or page furniture."""
    return bool(_SENTENCE_END.search(line))


def opening_phrase(text: str, limit: int = 60) -> str:
    """The phrase ``text`` opens with, up to its first space or sentence end, when it is 4 to ``limit`` characters."""
    match = _OPENING.match(text)
    return match.group(1) if match and 4 <= len(match.group(1)) <= limit else ""


def is_short_line(line: str) -> bool:
    """True for a line too short to be a clause: a name in a list, a heading, a signature."""
    return len(line) <= TITLE_MAX_CHARS and not _SENTENCE_END.search(line)


def line_label(line: str) -> str | None:
    """The label of a ``组  长:鹿心社`` line (``组长``), or None."""
    match = _LABEL.match(line)
    return re.sub(r"\s+", "", match.group(1)) if match else None


def lead_phrase(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """The first sentence of ``text`` when it is short enough to be a title (培育国际贸易新业态新模式), else ''."""
    match = _SENTENCE_END.search(text)
    first = text[: match.start()] if match else text
    first = first.strip().rstrip(":：")
    return first if 0 < len(first) <= limit and not re.search("[,，]", first) else ""


def heading_phrase(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """What a numbered line names itself by: its lead phrase, else its words up to the last pause (，、；：) within
    ``limit`` characters, so that a heading never ends mid-word; '' when it has no such pause."""
    lead = lead_phrase(text, limit)
    if lead:
        return lead
    head = text[:limit]
    pause = max((head.rfind(mark) for mark in "，,、；;：:"), default=-1)
    return head[:pause].strip() if pause >= 4 else ""


def has_body_after_lead(text: str) -> bool:
    """True when ``text`` says more than its lead phrase, i.e. it is a clause and not just a heading: a sentence
    after its lead phrase, or one whole sentence that is no title (本通知自印发之日起施行，有效期至…。)."""
    match = _SENTENCE_END.search(text)
    if match is None:
        return len(text) > TITLE_MAX_CHARS
    return bool(text[match.end() :].strip()) or not lead_phrase(text)
