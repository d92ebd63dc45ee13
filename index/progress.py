"""How far the embedding of the write under way in this process has got: logged as it goes, so that a long
first build is never silent, and read by the service's readiness answer while it waits for the index."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("policyqa.index")
# At most one line per this many seconds: a 25-minute build logs about 50.
LOG_EVERY_SECONDS = 30.0

_lock = threading.Lock()
_under_way: dict[str, float] = {}  # "done", "total", "started" of the embedding under way, if any


@contextmanager
def embedding_progress(total: int) -> Iterator[Callable[[int], None]]:
    """Record the embedding of ``total`` windows while it runs; yield the callback that counts windows done."""
    started = time.monotonic()
    last_logged = started
    with _lock:
        _under_way.update(done=0, total=total, started=started)

    def advance(windows: int) -> None:
        nonlocal last_logged
        with _lock:
            _under_way["done"] += windows
        now = time.monotonic()
        if now - last_logged >= LOG_EVERY_SECONDS:
            last_logged = now
            log.info("building the index: %s", embedding_status())

    try:
        yield advance
    finally:
        with _lock:
            _under_way.clear()


def embedding_status() -> str | None:
    """The embedding under way, as ``1200 of 6807 clause windows embedded (18%), about 9 min left``; None if none."""
    with _lock:
        if not _under_way:
            return None
        done, total, started = int(_under_way["done"]), int(_under_way["total"]), _under_way["started"]
    status = f"{done} of {total} clause windows embedded ({done / max(total, 1):.0%})"
    if done and done < total:
        left = (time.monotonic() - started) / done * (total - done)
        status += f", about {left / 60:.0f} min left" if left >= 60 else f", about {left:.0f} s left"
    return status
