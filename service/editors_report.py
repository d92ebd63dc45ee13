"""The editors' to-do list, from the question log: the questions asked most often in the last days that the notices
may not answer, and those whose answer was marked unhelpful (``policyqa report``)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FrequentQuestion:
    """A question, in the form it was asked most often, how often it was asked, and the top result it got last."""

    question: str
    count: int
    citation: str | None


@dataclass(frozen=True)
class EditorsReport:
    """What went unanswered since ``since``: flagged searches and unhelpful answers, most frequent first."""

    since: datetime.datetime
    searches: int
    unanswerable: list[FrequentQuestion]
    unanswerable_count: int
    unhelpful: list[FrequentQuestion]
    unhelpful_count: int
    unhelpful_unmatched: int  # feedback whose search is no longer in the log

    def lines(self) -> list[str]:
        """The report as text, one section per list."""
        since = self.since.strftime("%Y-%m-%d %H:%M UTC")
        out = [f"{self.searches} question(s) asked since {since}.", ""]
        out += _section(
            f"Not answered (flagged answerable: false): {self.unanswerable_count} search(es)",
            self.unanswerable,
        )
        out += [""]
        title = f"Marked unhelpful: {self.unhelpful_count} answer(s)"
        if self.unhelpful_unmatched:
            title += f", {self.unhelpful_unmatched} of them to questions no longer in the log"
        out += _section(title, self.unhelpful)
        return out


def _section(title: str, questions: list[FrequentQuestion]) -> list[str]:
    lines = [title]
    for question in questions:
        lines.append(f"{question.count:>6}  {question.question}")
        if question.citation:
            lines.append(f"        top result: {question.citation}")
    if not questions:
        lines.append("        none")
    return lines


_NOT_COUNTED = re.compile(r"[\W_]+")  # whitespace, punctuation and symbols


def grouping_key(question: str) -> str:
    """What questions are grouped by: full- and half-width forms alike, case ignored, and whitespace and
    punctuation dropped (so 摇号怎么报名？ and 摇号 怎么报名 are one question)."""
    return _NOT_COUNTED.sub("", unicodedata.normalize("NFKC", question).casefold())


def build_report(records: Iterable[dict[str, Any]], since: datetime.datetime, top: int) -> EditorsReport:
    """The report over the log's ``records`` (oldest first) from ``since`` on, with ``top`` questions a list."""
    searches: dict[str, dict[str, Any]] = {}  # request id → search, older ones too: recent feedback may name them
    asked = 0
    flagged: list[dict[str, Any]] = []
    verdicts: dict[str, bool] = {}  # request id → helpful, by the latest feedback on it
    for record in records:
        kind, request_id = record.get("kind"), record.get("request_id")
        if not isinstance(request_id, str):
            continue
        recent = _is_since(record, since)
        if kind == "search" and isinstance(_question(record), str):
            searches[request_id] = record
            if recent:
                asked += 1
                if record.get("answerable") is False:
                    flagged.append(record)
        elif kind == "feedback" and recent and isinstance(record.get("helpful"), bool):
            verdicts[request_id] = record["helpful"]
    unhelpful_ids = [request_id for request_id, helpful in verdicts.items() if not helpful]
    unhelpful = [searches[request_id] for request_id in unhelpful_ids if request_id in searches]
    return EditorsReport(
        since=since,
        searches=asked,
        unanswerable=_most_frequent(flagged, top),
        unanswerable_count=len(flagged),
        unhelpful=_most_frequent(unhelpful, top),
        unhelpful_count=len(unhelpful_ids),
        unhelpful_unmatched=len(unhelpful_ids) - len(unhelpful),
    )


def _question(search: dict[str, Any]) -> Any:
    """What a search asked: a follow-up as completed from its conversation ("那个体工商户呢？" alone says little)."""
    return search.get("resolved_query") or search.get("question")


def _is_since(record: dict[str, Any], since: datetime.datetime) -> bool:
    try:
        return datetime.datetime.fromisoformat(record["time"]) >= since
    except (KeyError, TypeError, ValueError):
        return False


def _most_frequent(searches: list[dict[str, Any]], top: int) -> list[FrequentQuestion]:
    """The ``top`` most frequent questions of ``searches`` (oldest first), grouped by ``grouping_key``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for search in searches:
        groups.setdefault(grouping_key(_question(search)), []).append(search)
    ranked = sorted(groups.values(), key=len, reverse=True)[:top]  # stable: ties in order of first asking
    return [
        FrequentQuestion(
            question=Counter(_question(search) for search in group).most_common(1)[0][0],
            count=len(group),
            citation=(group[-1].get("top") or {}).get("citation"),
        )
        for group in ranked
    ]
