"""Split a notice's text into clause-level passages that follow its own numbering.

The walk keeps a stack of the open headings (一、 / (一) / 1. / 第X条). A numbered line
that says more than its lead phrase is a clause and becomes a passage; one that is only
a heading names the section of the passages under it. Unnumbered paragraphs continue
the clause before them, or, under a bare heading, become passages of their own (short
lines such as a member list are grouped by their ``组长:`` labels). A notice with no
numbering at all therefore falls back to one passage per paragraph.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from corpus import markers
from corpus.markers import Level, Marker
from corpus.models import Document, Passage

_RESPONSIBLE = re.compile(r"[(（]\s*责任单位\s*[:：](?P<units>[^()（）]*(?:[(（][^()（）]*[)）][^()（）]*)*)[)）]\s*$")
_SHARED_SUFFIXES = ("片区管理机构",)
_INTRO = "引言"


class Line(NamedTuple):
    """One non-empty line of the text, stripped, with its offsets in the text."""

    text: str
    start: int
    end: int


@dataclass
class _Node:
    """A numbered line on the heading stack."""

    marker: Marker
    line: Line
    key: str
    has_children: bool = False

    @property
    def heading(self) -> str:
        """The label and title of the heading: 三、主要任务, (二)打造面向东盟的国际投资贸易先导区, 第一章 总则."""
        rest = re.sub(r"\s+", "", markers.lead_phrase(self.marker.rest) or self.marker.rest[:40])
        joiner = " " if self.marker.level in (Level.CHAPTER, Level.SECTION) else ""
        return f"{self.marker.label}{joiner}{rest}".strip()


@dataclass
class _Draft:
    """A passage being collected: its lines and where it sits."""

    kind: str  # "clause" (a numbered line), "paragraph", "group" (short lines) or "notice"
    lines: list[Line]
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


def split_lines(text: str) -> list[Line]:
    """The non-empty lines of ``text``, stripped of surrounding whitespace, with their offsets."""
    lines = []
    for match in re.finditer(r"[^\r\n]+", text):
        raw = match.group()
        stripped = raw.strip(" \t\u3000\u00a0\ufeff")
        if stripped:
            start = match.start() + raw.index(stripped)
            lines.append(Line(stripped, start, start + len(stripped)))
    return lines


def parse_notice(doc_id: str, text: str, source_file: str) -> tuple[Document, list[Passage]]:
    """Parse one notice's text into its document record and its passages, in reading order."""
    all_lines = split_lines(text)
    lines = [line for line in all_lines if not markers.is_page_chrome(line.text)]
    published = next((d for line in all_lines[:40] if (d := markers.published_date(line.text))), None)
    title_at = next((i for i, line in enumerate(lines[:40]) if markers.is_notice_title(line.text)), None)
    if title_at is None:
        title = _clean_title(lines[0].text) if lines and markers.is_short_line(lines[0].text) else doc_id
        body_from = 1 if title != doc_id else 0
    else:
        title, body_from = _clean_title(lines[title_at].text), title_at + 1

    walk = _Walk()
    issuer, signed, body_from = _take_notice_block(walk, lines, body_from, title)
    _walk_body(walk, lines, body_from)

    document = Document(
        doc_id=doc_id,
        title=title,
        citation_title=_citation_title(title),
        issuer=issuer,
        date=signed or published,
        source_file=source_file,
        text=text,
    )
    passages = _finish(walk, document)
    return document, passages


def _clean_title(line: str) -> str:
    # Saved pages often break a title with spaces: "关于印发 中国(广西)自由贸易试验区 建设实施方案的通知".
    return re.sub(r"\s+", "", line) if re.search(r"[\u4e00-\u9fff]", line) else line.strip()


def _citation_title(title: str) -> str:
    match = re.search(r"关于(?:印发|转发|发布)(.+?)的通知$", title)
    return match.group(1).strip("《》") if match else title.strip("《》")


def _take_notice_block(walk: _Walk, lines: list[Line], start: int, title: str) -> tuple[str | None, str | None, int]:
    """Make the covering notice (addressees … issuer, date) one passage, if the text opens with one.

    Returns the issuer, the signing date and where the body starts.
    """
    for i in range(start, min(start + 30, len(lines))):
        if markers.parse_marker(lines[i].text) is not None:
            break
        signed = markers.signing_date(lines[i].text)
        if signed is None:
            continue
        block = lines[start : i + 1]
        previous = lines[i - 1].text if i > start else ""
        issuer = previous if markers.is_short_line(previous) else None
        walk.drafts.append(_Draft("notice", block, "notice", [], "", title=title))
        body = i + 1
        while (
            body < len(lines) and markers.is_short_line(lines[body].text) and not markers.parse_marker(lines[body].text)
        ):
            body += 1  # the title of the document the notice covers
        return issuer, signed, body
    return None, None, start


def _walk_body(walk: _Walk, lines: list[Line], start: int) -> None:
    annex_titles: dict[str, str] = {}
    i = start
    while i < len(lines):
        line = lines[i]
        listing = markers.annex_listing(line.text)
        annex = markers.annex_heading(line.text)
        if listing and not (i + 1 < len(lines) and markers.parse_marker(lines[i + 1].text)):
            _close(walk)
            annex_titles[listing[0]] = listing[1]
        elif annex:
            i = _open_annex(walk, lines, i + 1, annex, annex_titles.get(annex, ""))
            continue
        elif (marker := markers.parse_marker(line.text)) is not None:
            _on_marker(walk, line, marker)
        else:
            _on_plain_line(walk, line)
        i += 1
    _close(walk)
    _pop_to(walk, Level.CHAPTER)


def _open_annex(walk: _Walk, lines: list[Line], i: int, label: str, listed_title: str) -> int:
    """Start an attachment: its numbering restarts, and its title lines follow its ``附件`` line."""
    _close(walk)
    _pop_to(walk, Level.CHAPTER)
    title_lines = []
    while i < len(lines) and markers.is_short_line(lines[i].text) and not markers.parse_marker(lines[i].text):
        title_lines.append(lines[i].text)
        i += 1
    walk.scope = label
    walk.scope_headings[label] = f"{label}:{''.join(title_lines) or listed_title}".rstrip(":")
    return i


def _on_marker(walk: _Walk, line: Line, marker: Marker) -> None:
    draft = walk.draft
    in_article = draft is not None and draft.own is not None and draft.own.level == Level.ARTICLE
    if (in_article and Level.SECTION < marker.level < Level.ARTICLE) or (
        draft is not None and draft.kind == "clause" and marker.level == Level.SUBITEM
    ):
        draft.lines.append(line)  # items inside an article, and (1) items inside a clause, belong to it
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


def _on_plain_line(walk: _Walk, line: Line) -> None:
    draft = walk.draft
    short = markers.is_short_line(line.text)
    label = markers.line_label(line.text)
    if draft is not None and (draft.kind == "clause" or (draft.kind == "group" and short and not label)):
        draft.lines.append(line)
        return
    _close(walk)
    parent_key = walk.stack[-1].key if walk.stack else walk.scope_key
    walk.paragraphs[parent_key] += 1
    number = walk.paragraphs[parent_key]
    if walk.stack:
        walk.stack[-1].has_children = True
        title = label or markers.lead_phrase(walk.stack[-1].marker.rest)
    else:
        title = label or ""
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
    if not short:
        _close(walk)


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
        text = document.text[start:end]
        body, units = _split_responsible(text)
        own = draft.own
        article = str(own.number) if own is not None and own.level in (Level.ITEM, Level.ARTICLE) else None
        passage_id = f"{document.doc_id}:{draft.key}"
        suffix = 2
        while passage_id in seen:  # a notice that numbers two clauses alike still gets unique ids
            passage_id, suffix = f"{document.doc_id}:{draft.key}-{suffix}", suffix + 1
        seen.add(passage_id)
        scope_heading = walk.scope_headings.get(draft.scope)
        section_path = ([scope_heading] if scope_heading else []) + [node.heading for node in draft.path]
        passages.append(
            Passage(
                passage_id=passage_id,
                doc_id=document.doc_id,
                doc_title=document.title,
                article=article,
                section_path=tuple(section_path),
                title=draft.title,
                text=text,
                body=body,
                responsible_units=units,
                start=start,
                end=end,
                citation=_citation(document, draft, article, walk.paragraphs),
            )
        )
    return passages


def _citation(document: Document, draft: _Draft, article: str | None, paragraphs: Counter[str]) -> str:
    """A human-readable reference: 《实施方案》三、主要任务(二) 第14条 培育国际贸易新业态新模式."""
    if draft.kind == "notice":
        return f"《{document.title}》"
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
    head = f"《{document.citation_title}》" + " ".join(part for part in (draft.scope, where) if part)
    title = draft.title if draft.title and draft.title not in where else ""
    tail = " ".join(part for part in (number, title) if part)
    return head + (" " if where or draft.scope else "") + tail if tail else head


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
