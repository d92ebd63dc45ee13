"""The HTTP API's request and response models (also the CLI's ``--json`` output)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from corpus.identity import KINDS
from corpus.models import Document, Identity, Passage
from corpus.regions import region_named
from index import Filters
from retrieval import MODES, Hit, RetrievalRequest

Mode = Literal[MODES]  # type: ignore[valid-type]  # the one list, retrieval.MODES
MAX_QUERY_CHARS = 500
MAX_TOP_K = 50
# The X-Request-ID a caller may send, which the service then answers with (else it makes one).
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MAX_COMMENT_CHARS = 1000


# Whitespace and control characters (str.isspace's and Unicode's Cc), written for JSON Schema's regular expressions
# as for Python's: a query must hold some other character, and each run of them becomes one space.
_BLANK = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
QUERY_PATTERN = f"[^{_BLANK}]"
_HAS_TEXT = re.compile(QUERY_PATTERN)
_BLANK_RUNS = re.compile(f"[{_BLANK}]+")


def _drop_surrogates(value: object) -> object:
    """Drop lone surrogates, which are not characters, before the text is validated."""
    if not isinstance(value, str):
        return value  # left for validation to refuse with "should be a valid string"
    return "".join(ch for ch in value if not 0xD800 <= ord(ch) <= 0xDFFF)


def _check_query(value: str) -> str:
    """Enforce the limits the schema states, on the text as sent; then make each run of blanks one space."""
    if len(value) > MAX_QUERY_CHARS:
        raise ValueError(f"query has {len(value)} characters; at most {MAX_QUERY_CHARS} are allowed")
    if not _HAS_TEXT.search(value):
        raise ValueError("query is empty or only whitespace and control characters")
    return _BLANK_RUNS.sub(" ", value).strip(" ")


QueryText = Annotated[
    str,
    BeforeValidator(_drop_surrogates),
    AfterValidator(_check_query),
    Field(
        description=f"At most {MAX_QUERY_CHARS} characters as sent (lone surrogates, which are not characters, are "
        "dropped first), at least one of which is neither whitespace nor a control character. Each run of whitespace "
        "and control characters is read as one space.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY_CHARS, "pattern": QUERY_PATTERN},
        examples=["钦州港片区能做汽车平行进口吗？"],
    ),
]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, description="How many clauses to return.")]
MAX_HISTORY = 10
History = Annotated[
    list[QueryText],
    Field(
        max_length=MAX_HISTORY,
        description=f"The conversation's earlier questions, oldest first (at most {MAX_HISTORY}, each limited as the "
        "query is). An elliptical follow-up (那个体工商户呢？, 需要什么材料？) is completed from them before it is searched; a "
        "question that names its own subject is searched as asked.",
        examples=[["疫情期间中小微企业的社保单位缴费部分能免多久？"]],
    ),
]


def _known_region(value: str | None) -> str | None:
    if value is not None and region_named(value) is None:
        raise ValueError(f"{value!r} is not a region of China (a name such as 三明 or 福建省, a path, or 全国)")
    return value


def _known_kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise ValueError(f"{value!r} is not a kind of notice: one of {', '.join(KINDS)}")
    return value


IsoDate = Annotated[str | None, Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2020-02-01"])]


class NoticeFilters(BaseModel):
    """Keep the notices of an issuer, a region (and the places within it), a kind, or issued between two dates."""

    issuer: str | None = Field(None, max_length=100, description="Part of the issuer's name.", examples=["财政部"])
    region: Annotated[str | None, AfterValidator(_known_region)] = Field(
        None, max_length=100, description="Notices that apply there or in a place within it.", examples=["福建省"]
    )
    kind: Annotated[str | None, AfterValidator(_known_kind)] = Field(None, examples=["通知"])
    date_from: IsoDate = None
    date_to: IsoDate = None

    def notice_filters(self) -> dict[str, str | None]:
        """The identity filters, as ``index.Filters`` takes them."""
        return {name: getattr(self, name) for name in NoticeFilters.model_fields}


class SearchFilters(NoticeFilters):
    """Restrict a search to one notice and/or to sections whose heading contains a phrase, and to the notices
    ``NoticeFilters`` keeps."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str | None = Field(None, max_length=200, examples=["guangxi-ftz-implementation-plan-2020"])
    section: str | None = Field(None, max_length=100, examples=["主要任务"])

    def to_filters(self) -> Filters:
        return Filters(doc_id=self.doc_id, section=self.section, **self.notice_filters())


Rerank = Annotated[
    bool, Field(description="With a reranker configured, rerank the best candidates (false: the first stage alone).")
]


class SearchRequest(BaseModel):
    """A question and how to rank the clauses that answer it."""

    query: QueryText
    top_k: TopK = 5
    mode: Mode = Field("hybrid", description="hybrid: BM25 and dense fused; bm25 or dense: one leg alone.")
    filters: SearchFilters | None = None
    rerank: Rerank = True
    history: History = []

    def to_retrieval(self) -> RetrievalRequest:
        """The Retriever's request for this search."""
        filters = (self.filters or SearchFilters()).to_filters()
        return RetrievalRequest(self.query, self.top_k, self.mode, filters, self.rerank, tuple(self.history))


class SearchParams(NoticeFilters):
    """The same search as query parameters, for simple clients: ``GET /v1/search?q=…``."""

    q: QueryText
    top_k: TopK = 5
    mode: Mode = "hybrid"
    doc_id: str | None = Field(None, max_length=200)
    section: str | None = Field(None, max_length=100)
    rerank: Rerank = True
    history: History = []  # repeated: ?history=…&history=…

    def to_request(self) -> SearchRequest:
        filters = SearchFilters(doc_id=self.doc_id, section=self.section, **self.notice_filters())
        return SearchRequest(
            query=self.q, top_k=self.top_k, mode=self.mode, filters=filters, rerank=self.rerank, history=self.history
        )


class NoticeIdentity(BaseModel):
    """Who issued a notice, when, where it applies and whether it still does: what a result and a notice show."""

    issuer: str | None = Field(description="The issuing organ(s), where the notice names them.")
    date: str | None = Field(description="Date of issue, YYYY-MM-DD.")
    number: str | None = Field(description="The notice's document number (文号), e.g. 桂政发〔2020〕5号.")
    region: str | None = Field(description="Where it applies: 全国, a province, or a path such as 福建省/三明市.")
    kind: str | None = Field(description="通知, 公告, 意见, 办法, 措施, 解读 or 新闻.")
    valid_until: str | None = Field(description="The end of validity it states, YYYY-MM-DD.")
    in_force: bool = Field(description="False once the end of validity it states has passed.")
    source_url: str | None = Field(description="Where the public can read the notice, where the corpus says.")


def _identity_fields(identity: Identity) -> dict[str, Any]:
    return {
        "issuer": identity.issuer,
        "date": identity.date,
        "number": identity.number,
        "region": identity.region,
        "kind": identity.kind,
        "valid_until": identity.valid_until,
        "in_force": identity.in_force(datetime.date.today()),
        "source_url": identity.source_url,
    }


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


class Copy(BaseModel):
    """Where else a clause stands: another notice's clause of the same text."""

    passage_id: str
    doc_id: str
    citation: str


class SearchResult(NoticeIdentity):
    """One ranked clause, and its notice's identity."""

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
    scores: dict[str, float] = Field(
        description="Each stage's part in the score, adding up to it: bm25, dense, notice (where several notices "
        "are told apart), place (the notice's fit to the place the question asks about, where notices' places "
        "differ), cited (where the question names the notice by its 文号 or title), intro (a report's lead that carries its "
        "headline, or a paragraph that announces what follows, placed below its notice's clauses that score nearly as "
        "well) and rerank (with a reranker)."
    )
    also_in: list[Copy] = Field(
        default_factory=list,
        description="The same clause in other notices (a measure republished), ranked below this one: each text is "
        "one result.",
    )

    @classmethod
    def from_hit(cls, hit: Hit) -> SearchResult:
        return cls(
            rank=hit.rank,
            **_clause_fields(hit.passage),
            **_identity_fields(hit.passage.identity),
            highlight=hit.highlight,
            score=hit.score,
            scores=hit.scores,
            also_in=[Copy(passage_id=p.passage_id, doc_id=p.doc_id, citation=p.citation) for p in hit.copies],
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
        description="False when no clause matches strongly enough for the notices to answer the question, it "
        "asks nothing (？？？, hello), or, asked without Chinese, it stands near everyday chat (Tell me a joke)."
    )
    results: list[SearchResult]
    took_ms: float
    resolved_query: str | None = Field(
        None,
        description="The question searched, when it is not `query`: a follow-up completed from `history` "
        "(那湖北的企业呢？ → 湖北疫情期间企业的社保单位缴费部分能免多久？). Null when `query` was searched as asked.",
    )
    request_id: str = Field(description="The X-Request-ID of this answer: what POST /v1/feedback names it by.")


class FeedbackRequest(BaseModel):
    """Whether an answer helped: the one a search's ``request_id`` names."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(
        pattern=REQUEST_ID_PATTERN, description="The search's request_id (its X-Request-ID).", examples=["3f2a9c"]
    )
    helpful: StrictBool = Field(description="true: the answer helped; false: it did not.")
    comment: Annotated[str | None, BeforeValidator(_drop_surrogates)] = Field(
        None, max_length=MAX_COMMENT_CHARS, description="What the asker adds, in their words."
    )


class DocumentOut(NoticeIdentity):
    """A notice in the index."""

    doc_id: str
    title: str
    passage_count: int

    @classmethod
    def from_document(cls, document: Document, passage_count: int) -> DocumentOut:
        return cls(
            doc_id=document.doc_id,
            title=document.title,
            **_identity_fields(document.identity),
            passage_count=passage_count,
        )


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class Status(BaseModel):
    status: str


class RejectedFile(BaseModel):
    """A file of the corpus folder left out of the index, and why."""

    file: str = Field(description="Its path within the corpus folder.", examples=["2020/traffic.doc"])
    reason: str = Field(examples=["is not in a format policyqa reads: save it as .txt, .html, .htm, .docx, .pdf"])


def rejected_files(rejected: Iterable[tuple[str, str]]) -> list[RejectedFile]:
    """(file, reason) pairs (``ServiceState.rejected``) in the API's shape."""
    return [RejectedFile(file=file, reason=reason) for file, reason in rejected]


Rejected = Annotated[
    list[RejectedFile],
    Field(
        description="The files the last reading of the corpus folder left out; a notice whose changed file is "
        "left out keeps the version indexed before."
    ),
]


class Readiness(BaseModel):
    """The service is ready, and what serves: the embedding model and the reranker; and any files left out."""

    status: str
    embedder: str
    reranker: str | None = Field(description="The reranker that serves (POLICYQA_RERANKER), or null for none.")
    rejected: Rejected = []


class LibraryNotice(BaseModel):
    """A notice of the corpus folder or of the index, and how its file stands to the index."""

    doc_id: str
    file: str | None = Field(description="Its file's path within the corpus folder; null if the folder has none.")
    status: Literal["indexed", "changed", "not indexed", "no file"] = Field(
        description="indexed: the index holds the file as it is; changed: the file differs from what the index holds "
        "(not synced yet, or left out: see rejected); not indexed: the file is not in the index; no file: the index "
        "holds a notice the folder does not (another corpus's, on a shared database)."
    )
    title: str | None = Field(description="The indexed notice's title; null if it is not indexed.")
    passage_count: int = Field(description="Its indexed passages (0 if it is not indexed).")


class Library(BaseModel):
    """Every notice of the corpus folder and of the index, and the files left out."""

    notices: list[LibraryNotice]
    rejected: Rejected


class AddedNotice(DocumentOut):
    """A notice added (or replaced) through the admin API: indexed and in the corpus folder."""

    file: str = Field(description="Its file's path within the corpus folder.")
    visible_everywhere_within: float = Field(
        description="Seconds until every server process has seen it: 0 when the store is shared (PostgreSQL), "
        "else POLICYQA_RELOAD_INTERVAL (each process watches the index directory, and switches once it has read "
        "the new build). This process already answers from it."
    )


class SyncResult(BaseModel):
    """What re-reading the corpus folder did."""

    action: Literal["loaded", "built", "kept"] = Field(
        description="loaded: nothing had changed; built: the new and changed usable notices were written and the "
        "notices whose files are gone removed; kept: no changed file was usable, so nothing was written."
    )
    notices: int = Field(description="Notices in the index now.")
    seconds: float
    rejected: Rejected


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str


class ErrorResponse(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorDetail
