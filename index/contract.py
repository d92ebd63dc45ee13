"""What a store of indexed notices offers, whichever engine holds it: ``Index`` and its read ``Snapshot``.

A store does two things. It writes notices (``ingest``, ``remove``) whole or not at all, and it hands
out read snapshots: the raw scores of each leg (BM25 of passages and of notices, the nearest passages
and windows by vector), the terms and weights the evidence needs, and the passages themselves, all as
of one version of the store. Ranking is above the stores, in one place (``retrieval.Retriever``), so
two stores over the same notices rank alike.

Two stores implement it: ``DirectoryIndex`` (index/directory.py), a directory of builds served from
this process's memory, and ``PostgresIndex`` (index/postgres.py), a database shared by many
processes; ``index.factory`` opens either from an ``IndexConfig`` through its registry of stores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

import numpy as np

from corpus.loader import Corpus, Notice
from corpus.models import Document, Identity, Passage
from corpus.regions import region_named
from index.embedders import Embedder
from index.errors import IndexBuildError
from index.tokenizer import Tokenizer

Scores = Mapping[str, float]  # one leg's scores: passage (or notice) id -> score, best first


class Filters(NamedTuple):
    """Keep one notice's passages (``doc_id``) and/or those under a heading containing ``section``, and/or those
    of notices whose issuer contains ``issuer``, that apply in ``region`` (or a place within it), of ``kind``, or
    issued from ``date_from`` to ``date_to`` (YYYY-MM-DD, inclusive)."""

    doc_id: str | None = None
    section: str | None = None
    issuer: str | None = None
    region: str | None = None
    kind: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in self)

    @property
    def on_notices(self) -> bool:
        """True when it keeps notices by their identity (issuer, region, kind, date)."""
        return any(value is not None for value in (self.issuer, self.region, self.kind, self.date_from, self.date_to))

    def keeps(self, identity: Identity) -> bool:
        """Whether a notice of this identity passes the identity filters (one without a date fails a date bound)."""
        if self.issuer is not None and self.issuer not in (identity.issuer or ""):
            return False
        if self.kind is not None and identity.kind != self.kind:
            return False
        if self.region is not None:
            wanted, region = region_named(self.region), region_named(identity.region or "")
            if wanted is None or region is None or not region.within(wanted):
                return False
        if self.date_from is not None or self.date_to is not None:
            date = identity.date
            if date is None or not (self.date_from or "") <= date <= (self.date_to or "9999"):
                return False
        return True


class Snapshot(ABC):
    """One version of a store, read: each leg's raw scores and the passages, never a mixture of two writes."""

    tokenizer: Tokenizer  # cuts questions into the terms this version's BM25 was built on
    # Names the version of the store it reads: two snapshots of one version hold the same passages, so what was
    # measured of one (retrieval/chit_chat.py) holds for the other.
    version: Hashable

    @abstractmethod
    def lexical_run(self, query_terms: list[str], filters: Filters, limit: int) -> Scores:
        """BM25 scores of the (at most ``limit``) best passages that hold any of the terms, best first."""

    @abstractmethod
    def notice_run(self, query_terms: list[str]) -> Scores:
        """BM25 scores of the notices that hold any of the terms, a notice's terms being all its passages'; by doc id."""

    @abstractmethod
    def passage_run(self, vector: np.ndarray, filters: Filters, limit: int) -> Scores:
        """Cosine similarity of the (at most ``limit``) nearest passages, best first."""

    @abstractmethod
    def sentence_run(self, vector: np.ndarray, passage_ids: list[str]) -> Scores:
        """For each of these passages that has windows, the similarity of its closest window."""

    @abstractmethod
    def passage_terms(self, passage_id: str) -> frozenset[str]:
        """The distinct BM25 terms of a passage."""

    @abstractmethod
    def term_weight(self, term: str) -> float:
        """A term's idf; a term no passage has weighs as much as the rarest one some passage has."""

    @abstractmethod
    def get_passage(self, passage_id: str) -> Passage | None:
        """A passage by its id, or None."""


class Readable(Protocol):
    """What the ranking above a store needs of it: snapshots to read, and the model its vectors came from."""

    @property
    def embedder(self) -> Embedder: ...

    def reading(self) -> AbstractContextManager[Snapshot]: ...


class Index(ABC):
    """A store of notices' clauses, read through snapshots and written notice by notice.

    Each write is whole or not at all, and a snapshot taken meanwhile sees the store before it or
    after it, never a mixture; on any failure the store stays as it was.
    """

    embedder: Embedder  # embeds questions; the store's vectors came from the same model
    # Whether the store holds exactly one corpus directory, so that notices whose files are gone always leave
    # it; a database may be shared by several corpora, and drops them only when asked to prune.
    mirrors_corpus: bool = False

    # Reads.

    @abstractmethod
    def reading(self) -> AbstractContextManager[Snapshot]:
        """A snapshot of the store as it is now, for the reads of one question (IndexUnavailableError if it
        cannot be read now: nothing built yet, its database down)."""

    def get_passage(self, passage_id: str) -> Passage | None:
        """A passage by its id, or None."""
        with self.reading() as snapshot:
            return snapshot.get_passage(passage_id)

    @abstractmethod
    def document_counts(self) -> list[tuple[Document, int]]:
        """Every indexed notice with its number of passages."""

    @abstractmethod
    def fingerprints(self) -> dict[str, str | None]:
        """Every indexed notice's doc id, with what was recorded of its file (``clauses.indexed_fingerprint``;
        None if unknown): ``index.sync`` compares it with the corpus directory to find what changed."""

    def check(self) -> None:  # noqa: B027 - a no-op unless the index reads from elsewhere
        """Raise IndexUnavailableError if the index cannot answer now (its database is down)."""

    # Writes.

    @abstractmethod
    def ingest(
        self,
        notices: Corpus | Iterable[Notice],
        remove: Iterable[str] = (),
        embedder: Embedder | None = None,
        progress: bool = False,
    ) -> None:
        """Index ``notices``, each replacing any notice of the same doc id, and drop the notices ``remove``
        names, as one write.

        Their windows are embedded with ``embedder`` (by default the index's own, through its cache:
        a rerun embeds only new text), with a progress bar if asked. A Corpus with unusable files,
        or a notice given twice, is refused (IndexBuildError, ValueError) before anything is embedded.
        """

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Drop these notices (unknown ids are ignored), as one write."""
        self.ingest([], remove=doc_ids)

    def refresh(self) -> bool:
        """Switch to what another process has written since, if reads do not already see it; say whether
        anything changed. A database's reads always see its latest ingest, so by default nothing does."""
        return False

    def close(self) -> None:  # noqa: B027 - a no-op unless the index holds connections
        """Release what the index holds open (connections)."""


def notices_to_ingest(notices: Corpus | Iterable[Notice]) -> list[Notice]:
    """``notices`` as a list, refused if it would write a half-read corpus or one notice twice."""
    if isinstance(notices, Corpus):
        if notices.errors:
            raise IndexBuildError(f"not indexed, {len(notices.errors)} file(s) are not usable notices:", notices.errors)
        notices = notices.notices
    notices = list(notices)
    doc_ids = Counter(notice.document.doc_id for notice in notices)
    if duplicates := sorted(doc for doc, n in doc_ids.items() if n > 1):
        raise ValueError(f"notices given twice: {', '.join(duplicates)}")
    return notices
