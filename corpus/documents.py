"""Text out of office documents as portals publish them: Word (.docx, python-docx) and PDF (a text layer, pypdf).

Each converter raises ValueError with the reason a file cannot be read; the reader names the file.
"""

from __future__ import annotations

import io
import logging

from corpus.pdf_lines import join_wrapped, page_lines


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
    """The text layer of a PDF, with lines that wrap inside a paragraph joined again (``corpus.pdf_lines``)."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd but readable files
    try:
        reader = PdfReader(io.BytesIO(raw))
        encrypted = reader.is_encrypted
        pages = [] if encrypted else [page_lines(page) for page in reader.pages]
    except Exception as exc:  # as for .docx: whatever breaks in a damaged file is the file's fault
        raise ValueError(f"is not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if encrypted:
        raise ValueError("is an encrypted PDF; save it without a password first")
    if not any(pages):
        raise ValueError("is a PDF without a text layer (a scanned page needs OCR before it can be indexed)")
    return join_wrapped(pages)
