"""Split a notice's text into clause-level passages that follow its own numbering.

The walk goes through the text's segments (its lines, cut again where a clause starts in
running text: ``corpus.segments``) and keeps a stack of the open headings (一、 / (一) / 1. /
第X条). A numbered segment that says more than its lead phrase is a clause and becomes a
passage; one that is only a heading names the section of the passages under it. Unnumbered
paragraphs continue the clause before them, or, under a bare heading, become passages of
their own (short lines such as a member list are grouped by their ``组长:`` labels). A notice
with no numbering at all therefore falls back to one passage per paragraph, and a passage
over ``MAX_PASSAGE_CHARS`` is cut into parts of whole sentences.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from corpus import markers
from corpus.identity import read_identity
from corpus.markers import Level, Marker
from corpus.models import Document, Passage
from corpus.segments import Segment, split_segments
from corpus.sentences import part_spans

_RESPONSIBLE = re.compile(r"[(（]\s*责任单位\s*[:：](?P<units>[^()（）]*(?:[(（][^()（）]*[)）][^()（）]*)*)[)）]\s*$")
_SHARED_SUFFIXES = ("片区管理机构",)
_INTRO = "引言"
_TITLE_WRAPPING = re.compile(
    r"^\s*【[^】]{1,20}】|^\s*[^\s丨|]{1,12}[丨|]|^\s*[\u4e00-\u9fff]{1,10}[〔\[【]\d{4}[〕\]】]\d{1,4}号\s*[-—－]?\s*|(新华社|中新社)\S{0,12}电$"
)
# A page that runs its heading and the document's own heading into one line: "X X 正文…".
_REPEATED_TITLE = re.compile(r"^(\S.{7,100}?)\s+\1(?:\s|$)")
# An organ's name on a line of its own: 北京市市场监督管理局, 某某医院门办.
_ORGAN = re.compile(
    r"^[\u4e00-\u9fff()（）\s]{2,30}?(?:政府|办公厅|办公室|委员会|指挥部|领导小组|中心|[局厅委院会行部署办处])$"
)
_ANSWER_LABELS = frozenset({"答", "回答", "答复", "解答"})
_QA_LABELS = frozenset({"问", "问题"}) | _ANSWER_LABELS
# A question, a line that ends on a colon, or a bracketed label alone (see _leads_in).
_LEAD_IN = re.compile(r"[？?:：]$|^【[^】]{1,12}】$")
# Joint notices of many organs sign one organ a line; more than this many lines is not a signature.
MAX_STACKED_ORGANS = 8
# A part of a signature's name on a line of its own: Chinese only, no sentence.
_NAME_PART = re.compile(r"^[\u4e00-\u9fff()（）]{2,30}$")
# Where an organ's name may break: after its place or a unit (…开发区 / 工作委员会, …市委 / 办公室).
_PLACE_OR_UNIT = re.compile(r"(省|市|区|县|州|盟|旗|镇|乡|委|局|部|厅|会)$")
_TITLE_DATE = re.compile(
    r"(?:通知|意见|办法|方案|规定|决定|公告|通告|措施|细则)\s*[(（]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[)）]"
)
_PUBLIC_NOTE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[(（]此件")
_KIND_NAMES = "通知|意见|决定|公告|通告|办法|方案|规定|措施|细则"
_OWN_HEADING = re.compile(
    rf"(?:^|\s)((?:\S+\s+){{0,5}}\S*?关于[^。；！？!?，,]{{2,90}}?的?(?:若干)?(?:{_KIND_NAMES}))(?=\s|[(（]|$)"
)
_ANNOUNCEMENT_NUMBER = re.compile(
    r"(?<![《（(\u4e00-\u9fff])((?:[\u4e00-\u9fff]{2,20}[ \u3000\xa0])*[\u4e00-\u9fff]{2,20}公告\s*\d{4}\s*年\s*第\s*\d{1,4}\s*号)(?![)）])"
)
# A breadcrumb or a column's name (通知公告) heads a page, not a notice.
_PAGE_HEADING = re.compile(
    r"当前位置|您的位置|首页|[>＞»]|^(?:通知公告|公示公告|公告公示|政策法规|政策解读|新闻动态|工作动态)$"
)
_NOT_SUBTITLE = re.compile(r"[，,。；;：:！!？?\[【［■●◆▲]|讯|电$|记者|扫码|二维码")
_ORDER_TITLE = re.compile(r"^(\S{4,60}?)令[(（](第\d{1,4}号)[)）]$")
# Clauses longer than this many characters are cut into parts of whole sentences (measured in the README).
MAX_PASSAGE_CHARS = 600
# How much of its text names a notice that opens with no title or short phrase.
OPENING_TITLE_CHARS = 24
# The longest news headline taken from the opening of a report.
HEADLINE_MAX_CHARS = 60


@dataclass
class _Node:
    """A numbered line on the heading stack."""

    marker: Marker
    line: Segment
    key: str
    has_children: bool = False

    @property
    def heading(self) -> str:
        """The label and title of the heading: 三、主要任务, (二)打造面向东盟的国际投资贸易先导区, 第一章 总则."""
        rest = re.sub(r"\s+", "", markers.heading_phrase(self.marker.rest))
        joiner = " " if self.marker.level in (Level.CHAPTER, Level.SECTION) else ""
        return f"{self.marker.label}{joiner}{rest}".strip()


@dataclass
class _Draft:
    """A passage being collected: its lines and where it sits."""

    kind: str  # "clause" (a numbered line), "paragraph", "group" (short lines) or "notice"
    lines: list[Segment]
    key: str
    path: list[_Node]
    scope: str
    own: Marker | None = None
    title: str = ""
    paragraph_no: int = 0  # for an unnumbered paragraph: its place under its heading
    parent_key: str = ""


@dataclass
class _Walk:
    """The state of the walk through a notice's lines."""

    scope: str = ""  # "" for the main text, "附件" or "附件2" inside an attachment
    scope_headings: dict[str, str] = field(default_factory=dict)
    stack: list[_Node] = field(default_factory=list)
    draft: _Draft | None = None
    drafts: list[_Draft] = field(default_factory=list)
    paragraphs: Counter[str] = field(default_factory=Counter)

    @property
    def scope_key(self) -> str:
        """Prefix of passage keys inside an attachment (``annex``, ``annex2``), '' in the main text."""
        return "annex" + self.scope[2:] if self.scope else ""


def parse_notice(
    doc_id: str, text: str, source_file: str, source_url: str | None = None
) -> tuple[Document, list[Passage]]:
    """Parse one notice's text into its document record and its passages, in reading order; ``source_url`` is
    where the public can read it, if known."""
    # The notice's text, as its clauses quote it, is without the page furniture run into its lines.
    clean = markers.without_page_furniture(text)
    all_lines = split_segments(clean)
    lines = [line for line in all_lines if not markers.is_page_chrome(line.text) or markers.notice_title(line.text)]
    published = next((d for line in all_lines[:40] if (d := markers.published_date(line.text))), None)
    title, body_from = _find_title(lines, doc_id)

    walk = _Walk()
    issuer, signed, body_from = _take_notice_block(walk, lines, body_from, title)
    _walk_body(walk, lines, body_from)
    if signed is None:
        issuer, signed = _signature(lines)
    if issuer is None and (order := _ORDER_TITLE.match(title)) and _ORGAN.match(order.group(1)):
        issuer = order.group(1)
    signed = signed or _stated_date(text)

    document = Document(
        doc_id=doc_id,
        title=title,
        citation_title=_citation_title(title),
        source_file=source_file,
        text=clean,
        identity=read_identity(title, issuer, signed or published, _number(title, text), text, source_url),
    )
    passages = _finish(walk, document)
    return document, passages


def _find_title(lines: list[Segment], doc_id: str) -> tuple[str, int]:
    """The notice's title and where its body starts.

    A title line may follow page furniture (lines with no sentence in them) but not text. A notice
    without one is named by its opening phrase (山西省推行工程建设项目“不见面审批”), or its opening
    characters, so that a citation still says which notice it is.
    """
    banners = next((i for i, line in enumerate(lines[:2]) if not _is_banner(line.text)), len(lines[:2]))
    if banners:
        title, body_from = _find_title(lines[banners:], doc_id)
        return title, body_from + banners
    repeated = _REPEATED_TITLE.match(lines[0].text) if lines else None
    if repeated and markers.notice_title(repeated.group(1)):
        return _clean_title(repeated.group(1)), 0
    for i, line in enumerate(lines[:40]):
        found = markers.notice_title(line.text)
        if found and not _PAGE_HEADING.search(_clean_title(found)):
            title = _clean_title(_with_organs_before(line.text, found))
            # A page heading may drop the organs that the document's own heading, right under it, opens with.
            below = lines[i + 1].text if i + 1 < len(lines) else ""
            fuller = _clean_title(below) if markers.notice_title(below) else ""
            if fuller.endswith(title) and (fuller == title or _ORGAN.match(fuller.removesuffix(title))):
                return fuller, i + 2
            return title, i + 2 if _is_masthead(below) else i + 1
        if markers.has_sentence(line.text):
            break
    if lines and markers.is_short_line(lines[0].text):
        if title := _headline(lines[0].text) or _clean_title(lines[0].text):
            return title, 1
        # A line that is only a 文号 names nothing: the title is further down.
        title, body_from = _find_title(lines[1:], doc_id)
        return title, body_from + 1
    if not lines:
        return doc_id, 0
    if heading := _own_heading(lines[0].text):
        return _clean_title(heading), 0
    if headline := _headline(lines[0].text):
        return headline, 0
    opening = markers.opening_phrase(lines[0].text)
    return _clean_title(opening or lines[0].text[:OPENING_TITLE_CHARS] + "…"), 0


def _with_organs_before(line: str, title: str) -> str:
    """``title``, found at the end of ``line``, with the organs that run into it from before (财政部 税务总局关于…):
    a title is found from its last space, and the organs that issue it stand before that (once: a page may print
    them twice)."""
    before = line[: len(line) - len(title)].split()
    organs: list[str] = []
    while before and _ORGAN.match(before[-1]) and before[-1] not in organs:
        organs.insert(0, before.pop())
    return " ".join([*organs, title])


def _is_masthead(line: str) -> bool:
    """The issuing organ's masthead (海关总署公告, 天津市商务局文件), which some pages print under the notice's title."""
    return line.endswith(("公告", "文件")) and bool(_ORGAN.match(line[:-2]))


def _is_banner(line: str) -> bool:
    """A page's banner: the site's organ and its column (国家税务总局山东省税务局 通知公告), with no sentence."""
    return markers.is_short_line(line) and all(
        _ORGAN.match(part) or _PAGE_HEADING.search(part) for part in line.split()
    )


def _own_heading(text: str) -> str:
    """The document's own heading (its organs, then 关于…的意见) where a page runs it, after a news headline,
    into its first line; '' if there is none."""
    match = _OWN_HEADING.search(text, 0, 200)
    if not match:
        return ""
    *before, heading = re.split(r"\s+(?=\S*?关于)", match.group(1), maxsplit=1)
    # The last organ may run into 关于 (…营业管理部 北京市审计局关于…); nothing else may.
    run_in = heading.partition("关于")[0]
    if run_in and not _ORGAN.match(run_in):
        return ""
    organs = before[0].split() if before else []
    while organs and not _ORGAN.match(organs[0]):
        organs.pop(0)
    return " ".join([*organs, heading])


def _headline(text: str) -> str:
    """A news headline that a page runs into its report, whose parts are set apart by spaces
    (减息免租降税 江西打出稳定经济增长“组合拳” 新华社南昌…电): its first part, which may hold a ！ or ，, and
    the short part after it with no punctuation, which is a subtitle and not yet the report, the two set apart
    by a space as a reader would print them; '' if none."""
    parts = _TITLE_WRAPPING.sub("", text).replace("\u200d", " ").split()
    if not parts or not 4 <= len(parts[0]) <= HEADLINE_MAX_CHARS or "。" in parts[0] or _ORGAN.match(parts[0]):
        return ""
    subtitle = parts[1] if len(parts) > 1 else ""
    # The report, a dateline, a column label ([主题分类]) or the headline said again is no subtitle.
    if (
        not 4 <= len(subtitle) <= 30
        or _NOT_SUBTITLE.search(subtitle)
        or len(parts[0]) + len(subtitle) > HEADLINE_MAX_CHARS
        or any(subtitle[k : k + 6] in parts[0] for k in range(len(subtitle) - 5))
    ):
        return _clean_title(parts[0])
    return f"{_clean_title(parts[0])} {_clean_title(subtitle)}"


def _clean_title(line: str) -> str:
    """The title without what pages put around it: a column banner (【今日头条】) or label (共渡难关③丨), the 文号
    before it, a news dateline after it (新华社杭州2月10日电), the "..." of a page that cuts it short."""
    line = _TITLE_WRAPPING.sub("", line).removesuffix("...")
    # Saved pages often break a title with spaces: "关于印发 中国(广西)自由贸易试验区 建设实施方案的通知".
    return re.sub(r"\s+", "", line) if re.search(r"[\u4e00-\u9fff]", line) else line.strip()


def _citation_title(title: str) -> str:
    match = re.search(r"关于(?:印发|转发|发布)(.+?)的通知$", title)
    return match.group(1).strip("《》") if match else title.strip("《》")


def _take_notice_block(walk: _Walk, lines: list[Segment], start: int, title: str) -> tuple[str | None, str | None, int]:
    """Make the covering notice (addressees … issuer, date) one passage, if the text opens with one.

    Returns the issuer, the signing date and where the body starts.
    """
    for i in range(start, min(start + 30, len(lines))):
        if _marker(lines[i]) is not None:
            break
        signed = markers.signing_date(lines[i].text)
        if signed is None:
            continue
        block = lines[start : i + 1]
        issuer = _signer(lines[start:i])
        walk.drafts.append(_Draft("notice", block, "notice", [], "", title=title))
        body = i + 1
        while body < len(lines) and markers.is_short_line(lines[body].text) and not _marker(lines[body]):
            body += 1  # the title of the document the notice covers
        return issuer, signed, body
    return None, None, start


def _signature(lines: list[Segment]) -> tuple[str | None, str | None]:
    """The issuer and date that sign a notice at its end (财政部办公厅 2020年2月14日), if it is signed there; an
    organ's name alone on the last line signs it without a date."""
    # Attachments may follow the signature: then the main text ends at the first 附件 heading.
    annex = next((i for i, line in enumerate(lines) if markers.annex_heading(line.text)), len(lines))
    for end in (len(lines), annex):
        for i in range(end - 1, max(end - 4, -1), -1):
            signed = markers.signing_date(lines[i].text)
            if signed is not None:
                return _signer(lines[:i]), signed
    last = lines[-1].text.strip() if lines else ""
    return (last if _ORGAN.match(last) else None), None


def _signer(above: list[Segment]) -> str | None:
    """Who signs over a date: the short line just above it, with the organs stacked over it (财政部 / 税务总局), and
    the first part of a name broken over two lines (共青团北京市委经济技术开发区 / 工作委员会)."""
    last = above[-1].text.strip() if above else ""
    if not markers.is_short_line(last):
        return None
    organs = [_signing_organs(last)]
    for segment in reversed(above[-MAX_STACKED_ORGANS:-1]):
        line = segment.text.strip()
        if line.startswith("特此") or not (_ORGAN.match(organs[0]) and _NAME_PART.match(line)):
            break
        if _ORGAN.match(line):
            organs.insert(0, line)
            continue
        if _ORGAN.match(line + organs[0]) and _PLACE_OR_UNIT.search(line):
            organs[0] = line + organs[0]
        break
    return " ".join(organs) or None


def _signing_organs(line: str) -> str:
    """The organs a signature's line ends with, after what a page puts before them (附件：…, 联系人：…), each name
    whole where the page broke it with a space (…肺炎疫情 防控工作领导小组) or spaced its letters out (财 政 部); the
    line itself where it ends with no organ's name."""
    parts = line.split()
    if len(parts) > 1 and all(len(part) == 1 for part in parts):
        return "".join(parts)
    organs: list[str] = []
    for part in reversed(parts):
        if _ORGAN.match(part):
            organs.insert(0, part)
        elif organs and _NAME_PART.match(part) and not part.startswith("特此"):
            organs[0] = part + organs[0]
        else:
            break
    return " ".join(organs) if organs else line


def _number(title: str, text: str) -> str | None:
    """The notice's 文号: 桂政发〔2020〕5号, or an announcement's 财政部 税务总局公告2020年第8号, or an order's 第1号
    (…指挥部令（第1号）)."""
    if number := markers.document_number(text):
        return number
    # An announcement's number stands in its heading, before the first sentence ends: further on it is cited.
    heading_end = text.find("。", 0, 800)
    if announcement := _ANNOUNCEMENT_NUMBER.search(text, 0, 800 if heading_end < 0 else heading_end):
        return announcement.group(1)
    order = _ORDER_TITLE.match(title)
    return order.group(2) if order else None


def _stated_date(text: str) -> str | None:
    """The date of issue written in brackets under the title (…若干意见 （2020年2月10日）) or over a
    ``（此件公开发布）`` note that closes a signature, as YYYY-MM-DD; else None."""
    match = _TITLE_DATE.search(text, 0, 400) or _PUBLIC_NOTE_DATE.search(text)
    if not match:
        return None
    year, month, day = (int(group) for group in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None


def _walk_body(walk: _Walk, lines: list[Segment], start: int) -> None:
    annex_titles: dict[str, str] = {}
    i = start
    while i < len(lines):
        line = lines[i]
        listing = markers.annex_listing(line.text)
        annex = markers.annex_heading(line.text)
        if listing and not (i + 1 < len(lines) and _marker(lines[i + 1])):
            _close(walk)
            annex_titles[listing[0]] = listing[1]
        elif annex:
            i = _open_annex(walk, lines, i + 1, annex, annex_titles.get(annex, ""))
            continue
        elif (marker := _marker(line)) is not None:
            _on_marker(walk, line, marker)
        else:
            _on_plain_line(walk, line)
        i += 1
    _close(walk)
    _pop_to(walk, Level.CHAPTER)


def _open_annex(walk: _Walk, lines: list[Segment], i: int, label: str, listed_title: str) -> int:
    """Start an attachment: its numbering restarts, and its title lines follow its ``附件`` line."""
    _close(walk)
    _pop_to(walk, Level.CHAPTER)
    title_lines = []
    while i < len(lines) and markers.is_short_line(lines[i].text) and not _marker(lines[i]):
        title_lines.append(lines[i].text)
        i += 1
    if not title_lines and listed_title and i < len(lines):
        # Joined lines run the attachment's title into its first paragraph: cut it off there.
        rest = _after_prefix(lines[i], listed_title)
        if rest is not None:
            title_lines.append(listed_title)
            if rest.text:
                lines[i] = rest
            else:
                i += 1
    walk.scope = label
    walk.scope_headings[label] = f"{label}:{''.join(title_lines) or listed_title}".rstrip(":")
    return i


def _marker(line: Segment) -> Marker | None:
    """The numbering marker ``line`` opens with, if the segmenter found it to be one."""
    return markers.parse_marker(line.text) if line.numbered else None


def _after_prefix(line: Segment, prefix: str) -> Segment | None:
    """What is left of ``line`` after ``prefix`` (whitespace inside either ignored), or None if it does not start so."""
    wanted, at = re.sub(r"\s+", "", prefix), 0
    while wanted and at < len(line.text):
        ch = line.text[at]
        if not ch.isspace():
            if ch != wanted[0]:
                return None
            wanted = wanted[1:]
        at += 1
    if wanted:
        return None
    rest = line.text[at:]
    stripped = rest.lstrip()
    start = line.end - len(stripped)
    return Segment(stripped, start, line.end, markers.parse_marker(stripped) is not None)


def _on_marker(walk: _Walk, line: Segment, marker: Marker) -> None:
    draft = walk.draft
    in_article = draft is not None and draft.own is not None and draft.own.level == Level.ARTICLE
    if (in_article and Level.SECTION < marker.level < Level.ARTICLE) or (
        draft is not None and draft.kind == "clause" and marker.level in (Level.SUBITEM, Level.CIRCLED)
    ):
        draft.lines.append(line)  # items inside an article, and (1) or ① items inside a clause, belong to it
        return
    _close(walk)
    _pop_to(walk, marker.level)
    parent_key = walk.stack[-1].key if walk.stack else walk.scope_key
    if marker.level == Level.ARTICLE:  # articles are numbered through the whole text, whatever their chapter
        key = f"{walk.scope_key}.art{marker.number}".lstrip(".")
    else:
        key = f"{parent_key}.{marker.number}".lstrip(".")
    if walk.stack:
        walk.stack[-1].has_children = True
    node = _Node(marker, line, key)
    walk.stack.append(node)
    # Numbered items and articles are always clauses; higher levels are clauses only when
    # they say more than a title: "(一)加强组织落实。广西自贸试验区…" but not "三、主要任务".
    if marker.level in (Level.ITEM, Level.ARTICLE) or markers.has_body_after_lead(marker.rest):
        node.has_children = True
        walk.draft = _Draft(
            "clause", [line], node.key, walk.stack[:-1], walk.scope, own=marker, title=markers.lead_phrase(marker.rest)
        )


def _on_plain_line(walk: _Walk, line: Segment) -> None:
    draft = walk.draft
    short = markers.is_short_line(line.text)
    label = markers.line_label(line.text)
    if draft is not None and (
        draft.kind == "clause" or (draft.kind == "group" and short and not label) or _leads_in(draft.lines[-1].text)
    ):
        draft.lines.append(line)
        if draft.kind != "clause" and not short:
            _close(walk)
        return
    _close(walk)
    if label in _ANSWER_LABELS and walk.stack and not walk.stack[-1].has_children:
        _answer_the_question(walk, line)
        return
    parent_key = walk.stack[-1].key if walk.stack else walk.scope_key
    walk.paragraphs[parent_key] += 1
    number = walk.paragraphs[parent_key]
    named = None if label in _QA_LABELS else label  # 答：… names no subject; the question's heading does
    if walk.stack:
        walk.stack[-1].has_children = True
        title = named or markers.lead_phrase(walk.stack[-1].marker.rest)
    else:
        title = named or ""
    walk.draft = _Draft(
        "group" if short else "paragraph",
        [line],
        f"{parent_key}.p{number}".lstrip("."),
        list(walk.stack),
        walk.scope,
        title=title,
        paragraph_no=number,
        parent_key=parent_key,
    )
    if not short and not _leads_in(line.text):
        _close(walk)


def _answer_the_question(walk: _Walk, line: Segment) -> None:
    """Open, with the answer (答：…) right under a numbered question, one clause of both: a reader cites them
    together, and the dense leg, which reads a clause's own text, sees the question the answer is to."""
    question = walk.stack[-1]
    question.has_children = True
    walk.draft = _Draft(
        "clause",
        [question.line, line],
        question.key,
        walk.stack[:-1],
        walk.scope,
        own=question.marker,
        title=markers.lead_phrase(question.marker.rest),
    )


def _leads_in(text: str) -> bool:
    """True for an unnumbered line that asks or announces what the next one says (问：…能来吗？ / 尊敬的纳税人： /
    【享受主体】): it opens the passage of what follows, not one of its own."""
    return bool(_LEAD_IN.search(text.strip()))


def _pop_to(walk: _Walk, level: Level) -> None:
    """Pop headings at ``level`` or deeper; a heading that got no clause under it becomes a passage itself."""
    while walk.stack and walk.stack[-1].marker.level >= level:
        node = walk.stack.pop()
        if not node.has_children:
            marker = node.marker
            walk.drafts.append(
                _Draft("clause", [node.line], node.key, list(walk.stack), walk.scope, own=marker,
                       title=markers.lead_phrase(marker.rest))
            )  # fmt: skip


def _close(walk: _Walk) -> None:
    if walk.draft is not None:
        walk.drafts.append(walk.draft)
        walk.draft = None


def _finish(walk: _Walk, document: Document) -> list[Passage]:
    passages, seen = [], set()
    for draft in sorted(walk.drafts, key=lambda d: d.lines[0].start):
        start, end = draft.lines[0].start, draft.lines[-1].end
        own = draft.own
        article = str(own.number) if own is not None and own.level in (Level.ITEM, Level.ARTICLE) else None
        passage_id = f"{document.doc_id}:{draft.key}"
        suffix = 2
        while passage_id in seen:  # a notice that numbers two clauses alike still gets unique ids
            passage_id, suffix = f"{document.doc_id}:{draft.key}-{suffix}", suffix + 1
        seen.add(passage_id)
        scope_heading = walk.scope_headings.get(draft.scope)
        section_path = ([scope_heading] if scope_heading else []) + [node.heading for node in draft.path]
        citation = _citation(document, draft, article, walk.paragraphs)
        parts = part_spans(document.text[start:end], MAX_PASSAGE_CHARS)
        for number, (part_start, part_end) in enumerate(parts, start=1):
            text = document.text[start + part_start : start + part_end]
            body, units = _split_responsible(text)
            part = f"{number}/{len(parts)}" if len(parts) > 1 else None
            passages.append(
                Passage(
                    passage_id=f"{passage_id}.part{number}" if part else passage_id,
                    doc_id=document.doc_id,
                    doc_title=document.title,
                    article=article,
                    section_path=tuple(section_path),
                    title=draft.title,
                    text=text,
                    body=body,
                    responsible_units=units,
                    start=start + part_start,
                    end=start + part_end,
                    citation=f"{citation} ({part})" if part else citation,
                    part=part,
                    identity=document.identity,
                )
            )
    return passages


def _citation(document: Document, draft: _Draft, article: str | None, paragraphs: Counter[str]) -> str:
    """A human-readable reference: 《实施方案》三、主要任务(二) 第14条 培育国际贸易新业态新模式."""
    if draft.kind == "notice":
        return _notice_reference(document, document.title)
    labels = [node.heading if node.marker.level == Level.PART else node.marker.label for node in draft.path]
    own = draft.own
    if own is not None and own.level not in (Level.ITEM, Level.ARTICLE):
        labels.append(own.label if labels else _Node(own, draft.lines[0], "").heading)
    where = "".join(labels)
    if article is not None:
        number = f"第{article}条"
    elif draft.paragraph_no and paragraphs[draft.parent_key] > 1:
        number = f"第{draft.paragraph_no}段"
    elif not where and own is None:
        number = _INTRO
    else:
        number = ""
    head = _notice_reference(document) + " ".join(part for part in (draft.scope, where) if part)
    title = draft.title if draft.title and draft.title not in where else ""
    tail = " ".join(part for part in (number, title) if part)
    return head + (" " if where or draft.scope else "") + tail if tail else head


def _notice_reference(document: Document, title: str | None = None) -> str:
    """《title》 and, in brackets, who issued it and its 文号 where the notice states them (and the title does not
    already name its issuer): 《中国(广西)自由贸易试验区建设实施方案》（广西壮族自治区人民政府）."""
    title = title or document.citation_title
    issuer, number = document.identity.issuer, document.identity.number
    source = [part for part in (issuer if issuer and not title.startswith(issuer) else None, number) if part]
    return f"《{title}》" + (f"（{'，'.join(source)}）" if source else "")


def _split_responsible(text: str) -> tuple[str, tuple[str, ...]]:
    """Cut the ``(责任单位:…)`` tail off a clause; return the clause and the units, lead unit first."""
    match = _RESPONSIBLE.search(text)
    if match is None:
        return text, ()
    units: list[str] = []
    for group in _split_outside_brackets(match.group("units").split("。")[0], ",，;；"):
        items = [item.strip() for item in _split_outside_brackets(group, "、") if item.strip()]
        suffix = next((s for s in _SHARED_SUFFIXES if len(items) > 1 and items[-1].endswith(s)), None)
        # "南宁、钦州港、崇左片区管理机构" names three bodies that share one suffix.
        units.extend(item if suffix is None or item.endswith(suffix) else item + suffix for item in items)
    return text[: match.start()].rstrip(), tuple(units)


def _split_outside_brackets(text: str, separators: str) -> list[str]:
    """Split at ``separators`` that are not inside brackets: 各县(市、区)人民政府 stays whole."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += 1 if ch in "(（" else -1 if ch in ")）" else 0
        if ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
