"""The one object that owns the service's state: settings, and the index once it is loaded."""

from __future__ import annotations

import logging
import threading

from index import IndexReport, IndexStore, SearchBackend
from index.factory import open_index
from service.settings import Settings

log = logging.getLogger("policyqa.service")


class ServiceState:
    """Holds the loaded index. ``index`` is replaced whole, never changed in place, so a
    request that has read it keeps a consistent index however long it runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index: SearchBackend | None = None
        self.report: IndexReport | None = None
        self.load_error: str | None = None
        self._store = IndexStore(settings.index_dir) if settings.backend == "local" else None
        self._build: str | None = None  # the local build last loaded, or last found unloadable

    def run(self, stop: threading.Event) -> None:
        """Load the index, then (for a local index) switch to each newer complete build until ``stop``."""
        self.load()
        if self._store is None or not self.settings.reload_interval:
            return
        while not stop.wait(self.settings.reload_interval):
            if self._store.current_build() != self._build:
                self.reload()

    def reload(self) -> None:
        """Switch to the build ``current`` now points to, verified; if it cannot be loaded, keep serving
        the index already loaded (and do not try that build again). With none loaded yet, load it."""
        if self._store is None:
            return
        if self.index is None:
            self.load()
            return
        self._build = self._store.current_build()
        try:
            index = self._store.load(self.index.embedder)
        except Exception as exc:  # whatever went wrong, the loaded index stays served
            log.error("newer index build %s not loaded, still serving the earlier one: %s", self._build, exc)
            return
        index.thresholds = self.settings.thresholds()
        self.index = index
        counts = index.document_counts()
        log.info("switched to index build %s: %d notices, %d passages", self._build, len(counts), len(index.passages))

    def load(self) -> None:
        """Load the index (building it if the corpus or embedder changed); record any failure."""
        if self._store is not None:
            self._build = self._store.current_build()  # before loading: a swap meanwhile is seen as newer
        try:
            index, report = open_index(self.settings.index_config())
        except Exception as exc:  # the service stays up and says why it is not ready
            log.error("index could not be loaded: %s", exc)
            self.load_error = f"index could not be loaded: {self._without_paths(str(exc))}"
            return
        if self._store is not None and report.action == "built":
            self._build = self._store.current_build()
        self.load_error = None
        for error in report.errors:
            log.warning("not indexed: %s; serving the earlier index", error)
        counts = index.document_counts()
        log.info(
            "index %s in %.2fs: %d notices, %d passages, embedder %s",
            report.action, report.seconds, len(counts), sum(n for _, n in counts), index.embedder.id,
        )  # fmt: skip
        self.index, self.report = index, report

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
