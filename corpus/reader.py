"""Turn a notice file on disk into text: decode plain text, or extract the text of a web page, .docx or .pdf."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from corpus.documents import document_text

NOTICE_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".pdf")
# Larger files are refused before reading: a notice is text and a few pages, even as a PDF with its seals.
MAX_NOTICE_BYTES = 50 * 1024 * 1024
SIDECAR_SUFFIX = ".url"  # <notice file>.url names its source page

_WEB_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_HTML_SNIFF = re.compile(rb"<\s*(!doctype\s+html|html|head|body|meta|div|p)\b", re.IGNORECASE)
_DROPPED_TAGS = ("head", "script", "style", "noscript", "iframe", "svg", "nav", "header", "footer", "form", "button")
_BLOCK_TAGS = (
    "p", "div", "li", "tr", "table", "section", "article", "main", "aside",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "ul", "ol", "dd", "dt",
)  # fmt: skip


class NoticeFileError(ValueError):
    """A notice file that cannot be read as a notice; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_notice_text(path: Path) -> str:
    """Return the text of the notice in ``path``: UTF-8 or GB18030/GBK plain text, a saved HTML page, .docx or .pdf."""
    try:
        if (size := path.stat().st_size) > MAX_NOTICE_BYTES:
            raise NoticeFileError(path, f"has {size} bytes; a notice file may have at most {MAX_NOTICE_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise NoticeFileError(path, f"cannot be read ({exc.strerror})") from exc
    if not raw.strip():
        raise NoticeFileError(path, "is empty")
    if path.suffix.lower() in (".docx", ".pdf"):
        try:
            text = document_text(path.suffix.lower(), raw)
        except ValueError as exc:
            raise NoticeFileError(path, str(exc)) from exc
        if not re.search(r"\w", text):
            raise NoticeFileError(path, "contains no text")
        return text
    if b"\x00" in raw[:8192]:
        raise NoticeFileError(path, "is a binary file, not text (it contains NUL bytes)")
    text = _decode(path, raw)
    if path.suffix.lower() in (".html", ".htm") or _HTML_SNIFF.search(raw[:2048]):
        text = html_to_text(text)
    if _control_char_ratio(text) > 0.05:
        raise NoticeFileError(path, "is a binary file, not text (too many control characters)")
    if not re.search(r"[\w]", text):
        raise NoticeFileError(path, "contains no text")
    return text


def html_to_text(html: str) -> str:
    """Extract a page's text with one line per block element, dropping scripts, styles and navigation."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in soup.get_text().splitlines())
    return "\n\n".join(line for line in lines if line)


def source_url_file(path: Path) -> Path:
    """The sidecar file that may name a notice's source page: ``<name>.url`` beside it, holding the URL."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def notice_source_url(path: Path) -> str | None:
    """Where the public can read the notice: the URL in its ``.url`` sidecar file, else a saved page's
    ``<link rel="canonical">`` or ``og:url``; only an http(s) URL counts."""
    sidecar = source_url_file(path)
    if sidecar.is_file():
        url = sidecar.read_text(encoding="utf-8", errors="replace").strip().split()[0:1]
        return url[0] if url and is_web_url(url[0]) else None
    if path.suffix.lower() not in (".html", ".htm"):
        return None
    soup = BeautifulSoup(path.read_bytes(), "html.parser")
    found = soup.find("link", rel="canonical") or soup.find("meta", property="og:url")
    url = (found.get("href") or found.get("content")) if found is not None else None
    return url.strip() if isinstance(url, str) and is_web_url(url.strip()) else None


def is_web_url(text: str) -> bool:
    """Whether ``text`` is one http(s) URL, the only kind of source page a notice is linked to."""
    return _WEB_URL.match(text) is not None


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            bad = raw[utf8_error.start]
            raise NoticeFileError(
                path,
                f"is neither UTF-8 nor GB18030/GBK text (undecodable byte 0x{bad:02x} at offset {utf8_error.start})",
            ) from utf8_error


def _control_char_ratio(text: str) -> float:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls / max(len(text), 1)
