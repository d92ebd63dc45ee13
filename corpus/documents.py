"""Text out of office documents as portals publish them: Word (.docx, python-docx) and PDF (a text layer, pypdf).

Each converter raises ValueError with the reason a file cannot be read; the reader names the file.
"""

from __future__ import annotations

import io
import logging
import re

from corpus import markers

_SENTENCE_END = re.compile(r"[。；;：:！!？?”」)）]$")
# A PDF line at least this share of its page's longest line is taken to wrap inside its paragraph.
_FULL_LINE = 0.8


def document_text(suffix: str, raw: bytes) -> str:
    """The text of a ``.docx`` or ``.pdf`` file's bytes, one paragraph a line."""
    return docx_text(raw) if suffix == ".docx" else pdf_text(raw)


def docx_text(raw: bytes) -> str:
    """The paragraphs and table rows of a Word document, in reading order."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # a damaged file fails anywhere in the zip or XML parsing: it is the file's fault
        raise ValueError(f"is not a readable .docx file ({type(exc).__name__}: {exc})") from exc
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines += [" ".join(cell.text.strip() for cell in row.cells if cell.text.strip()) for row in block.rows]
        else:
            lines.append(block.text.strip())
    return "\n".join(line for line in lines if line)


def pdf_text(raw: bytes) -> str:
    """The text layer of a PDF, with lines that wrap inside a paragraph joined again."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd but readable files
    try:
        reader = PdfReader(io.BytesIO(raw))
        encrypted = reader.is_encrypted
        pages = [] if encrypted else [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # as for .docx: whatever breaks in a damaged file is the file's fault
        raise ValueError(f"is not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if encrypted:
        raise ValueError("is an encrypted PDF; save it without a password first")
    if not any(page.strip() for page in pages):
        raise ValueError("is a PDF without a text layer (a scanned page needs OCR before it can be indexed)")
    return "\n".join(_rejoin(page) for page in pages)


def _rejoin(page: str) -> str:
    """Join the lines of a page that wrap mid-paragraph: a full-width line that ends without punctuation
    and is no title, followed by a line that opens with no numbering marker."""
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    widest = max((len(line) for line in lines), default=0)
    out: list[list[str]] = []
    for line in lines:
        previous = out[-1][-1] if out else ""
        wraps = (
            len(previous) >= _FULL_LINE * widest
            and not _SENTENCE_END.search(previous)
            and markers.notice_title(previous) is None
            and markers.parse_marker(line) is None
        )
        if out and wraps:
            out[-1].append(line)
        else:
            out.append([line])
    return "\n".join("".join(paragraph) for paragraph in out)
