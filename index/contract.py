"""What service/, the CLI and eval see of an index, whichever backend holds it: ``Index``.

Two backends implement it: ``DirectoryIndex`` (index/directory.py), a directory of builds served
from this process's memory, and ``PostgresIndex`` (index/postgres.py), a database shared by many
processes. Both rank with the same code (index/backend.py) over what index/clauses.py says a
clause is, and ``index.factory.open_index`` opens either one from an ``IndexConfig``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable

from corpus.loader import Corpus, Notice
from corpus.models import Document, Passage
from index.answerability import Thresholds
from index.backend import Ranking
from index.embedders import Embedder
from index.errors import IndexBuildError


class Index(ABC):
    """Notices' clauses, searchable, and written notice by notice.

    Each write is whole or not at all, and a search running meanwhile sees the index before it or
    after it, never a mixture; on any failure the index stays as it was.
    """

    embedder: Embedder  # embeds questions; the index's vectors came from the same model
    thresholds: Thresholds

    # Reads.

    @abstractmethod
    def search(
        self, query: str, top_k: int = 5, mode: str = "hybrid", doc_id: str | None = None, section: str | None = None
    ) -> Ranking:
        """The ``top_k`` passages that best answer ``query``, best first, and whether any answers it
        (``SearchBackend.search``)."""

    @abstractmethod
    def highlight(self, passage: Passage, query: str) -> str:
        """The sentence of ``passage`` that best answers ``query``."""

    @abstractmethod
    def get_passage(self, passage_id: str) -> Passage | None:
        """A passage by its id, or None."""

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
