"""The HTTP API's request and response models (also the CLI's ``--json`` output)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from corpus.models import Document, Passage
from index.backend import MODES, Hit

Mode = Literal[MODES]  # type: ignore[valid-type]  # the one list, index.MODES
MAX_QUERY_CHARS = 500
MAX_TOP_K = 50


def _clean_query(value: object) -> object:
    """Drop lone surrogates and turn control characters into spaces, before the text is validated."""
    if not isinstance(value, str):
        return value  # left for validation to refuse with "should be a valid string"
    kept = (" " if unicodedata.category(ch) == "Cc" else ch for ch in value if not 0xD800 <= ord(ch) <= 0xDFFF)
    return " ".join("".join(kept).split())


def _require_text(value: str) -> str:
    if not value:
        raise ValueError("query is empty or only whitespace")
    if len(value) > MAX_QUERY_CHARS:
        raise ValueError(f"query has {len(value)} characters; at most {MAX_QUERY_CHARS} are allowed")
    return value


QueryText = Annotated[
    str,
    BeforeValidator(_clean_query),
    AfterValidator(_require_text),
    Field(
        json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY_CHARS}, examples=["钦州港片区能做汽车平行进口吗？"]
    ),
]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, description="How many clauses to return.")]


class SearchFilters(BaseModel):
    """Restrict a search to one notice and/or to sections whose heading contains a phrase."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str | None = Field(None, max_length=200, examples=["guangxi-ftz-implementation-plan-2020"])
    section: str | None = Field(None, max_length=100, examples=["主要任务"])


class SearchRequest(BaseModel):
    """A question and how to rank the clauses that answer it."""

    query: QueryText
    top_k: TopK = 5
    mode: Mode = Field("hybrid", description="hybrid: BM25 and dense fused; bm25 or dense: one leg alone.")
    filters: SearchFilters | None = None


class SearchParams(BaseModel):
    """The same search as query parameters, for simple clients: ``GET /v1/search?q=…``."""

    q: QueryText
    top_k: TopK = 5
    mode: Mode = "hybrid"
    doc_id: str | None = Field(None, max_length=200)
    section: str | None = Field(None, max_length=100)

    def to_request(self) -> SearchRequest:
        filters = SearchFilters(doc_id=self.doc_id, section=self.section)
        return SearchRequest(query=self.q, top_k=self.top_k, mode=self.mode, filters=filters)


class PassageOut(BaseModel):
    """A clause with where it stands in its notice."""

    passage_id: str
    doc_id: str
    article: str | None = Field(description="Article number within its section, e.g. '14'; null for unnumbered parts.")
    title: str = Field(description="The clause's title or lead phrase.")
    section_path: list[str]
    citation: str = Field(description="Human-readable reference: notice, section, article.")
    part: str | None = Field(description="For a clause cut into parts of whole sentences, which part: '2/3'.")
    text: str
    responsible_units: list[str]

    @classmethod
    def from_passage(cls, passage: Passage) -> PassageOut:
        return cls(**_clause_fields(passage), responsible_units=list(passage.responsible_units))


class SearchResult(BaseModel):
    """One ranked clause."""

    rank: int
    passage_id: str
    doc_id: str
    article: str | None
    title: str
    section_path: list[str]
    citation: str
    part: str | None
    text: str
    highlight: str = Field(description="The sentence of the clause that best answers the question.")
    score: float
    scores: dict[str, float] = Field(description="Each leg's part in the score (bm25, dense).")

    @classmethod
    def from_hit(cls, hit: Hit, highlight: str) -> SearchResult:
        return cls(
            rank=hit.rank, **_clause_fields(hit.passage), highlight=highlight, score=hit.score, scores=hit.scores
        )


def _clause_fields(passage: Passage) -> dict[str, Any]:
    """What every clause in a response shows of itself."""
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "article": passage.article,
        "title": passage.title,
        "section_path": list(passage.section_path),
        "citation": passage.citation,
        "part": passage.part,
        "text": passage.text,
    }


class SearchResponse(BaseModel):
    """Ranked clauses for a question."""

    query: str
    mode: Mode
    answerable: bool = Field(
        description="False when no clause matches strongly enough for the notices to answer the question."
    )
    results: list[SearchResult]
    took_ms: float


class DocumentOut(BaseModel):
    """A notice in the index."""

    doc_id: str
    title: str
    issuer: str | None
    date: str | None
    number: str | None = Field(
        description="The notice's document number (文号), e.g. 桂政发〔2020〕5号, where it states one."
    )
    passage_count: int

    @classmethod
    def from_document(cls, document: Document, passage_count: int) -> DocumentOut:
        return cls(
            doc_id=document.doc_id,
            title=document.title,
            issuer=document.issuer,
            date=document.date,
            number=document.number,
            passage_count=passage_count,
        )


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class Status(BaseModel):
    status: str


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str


class ErrorResponse(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorDetail
