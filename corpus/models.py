"""The records the corpus layer produces: a notice, its identity, and one of its clauses."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Identity:
    """Who issued a notice, when, where and how long it applies, and what kind of document it is: what a
    citation names and what filters and the ranking read. Each is None where the notice does not say."""

    issuer: str | None = None  # the issuing organ(s): 财政部 税务总局
    date: str | None = None  # of issue, YYYY-MM-DD
    number: str | None = None  # the document number (文号): 桂政发〔2020〕5号
    region: str | None = None  # where it applies: 全国, 福建省, 福建省/三明市 (corpus.regions labels)
    kind: str | None = None  # 通知, 公告, 意见, 办法, 措施, 解读 or 新闻
    valid_from: str | None = None  # YYYY-MM-DD, where it says when it takes effect
    valid_until: str | None = None  # YYYY-MM-DD, where it says when it ends
    source_url: str | None = None  # where the public can read it: a sidecar file's URL or a saved page's canonical

    def in_force(self, today: datetime.date) -> bool:
        """False once the end of validity it states has passed."""
        return self.valid_until is None or self.valid_until >= today.isoformat()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Identity:
        return cls(**data)


@dataclass(frozen=True)
class Document:
    """One notice, as read from one file.

    ``text`` is the notice's text after decoding (and, for HTML pages, after
    extracting the page's text); every passage's offsets index into it.
    """

    doc_id: str
    title: str
    citation_title: str
    source_file: str
    text: str
    identity: Identity = Identity()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**{**data, "identity": Identity.from_dict(data.get("identity", {}))})


@dataclass(frozen=True)
class Passage:
    """One clause of a notice: the unit that is indexed, ranked and cited.

    ``text`` is exactly ``document.text[start:end]``. ``body`` is the same text
    without its ``(责任单位:…)`` tail, which is kept in ``responsible_units``
    instead so that it does not dominate matching. A clause too long to be one
    passage is cut into parts of whole sentences: ``part`` is then ``"2/3"``.
    """

    passage_id: str
    doc_id: str
    doc_title: str
    article: str | None
    section_path: tuple[str, ...]
    title: str
    text: str
    body: str
    responsible_units: tuple[str, ...]
    start: int
    end: int
    citation: str
    part: str | None = None
    identity: Identity = Identity()  # its notice's, so that a result can cite the notice without looking it up

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["section_path"] = list(self.section_path)
        data["responsible_units"] = list(self.responsible_units)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(
            **{
                **data,
                "section_path": tuple(data["section_path"]),
                "responsible_units": tuple(data["responsible_units"]),
                "identity": Identity.from_dict(data.get("identity", {})),
            }
        )
