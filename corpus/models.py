"""The two records the corpus layer produces: a notice and one of its clauses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Document:
    """One notice, as read from one file.

    ``text`` is the notice's text after decoding (and, for HTML pages, after
    extracting the page's text); every passage's offsets index into it.
    """

    doc_id: str
    title: str
    citation_title: str
    issuer: str | None
    date: str | None
    source_file: str
    text: str
    number: str | None = None  # the document number (文号): 桂政发〔2020〕5号

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**data)


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
            }
        )
