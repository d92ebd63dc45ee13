"""Logging set-up: every line carries the id of the request it belongs to."""

from __future__ import annotations

import logging
import re

from service.middleware import request_id_var

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _RequestIdFilter(logging.Filter):
    """The id of the request being served, unless the line names its own (``extra={"request_id": ...}``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class _OneLineFormatter(logging.Formatter):
    """Escape control characters in messages (a newline in a requested path would otherwise forge a log line);
    tracebacks, appended after the message, keep their lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _CONTROL.sub(lambda c: f"\\x{ord(c.group()):02x}", record.message)
        return super().formatMessage(record)


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr as ``time level logger [request-id] message``."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(_OneLineFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
