"""Cut text into sentences, and a long clause into parts of whole sentences.

One splitter serves the parser (a clause too long to cite or embed whole is cut into
parts) and the index (a clause's sentences are scored and highlighted one by one).
"""

from __future__ import annotations

import math
import re
from itertools import accumulate

_SENTENCE = re.compile(r"[^。；;！!？?\n]+(?:[。；;！!？?]+[”’」』)）]?|(?=\n)|$)")
# Full sentences only: a ；-clause runs on to the sentence's full stop.
_FULL_SENTENCE = re.compile(r"[^。！!？?\n]+(?:[。！!？?]+[”’」』)）]?|(?=\n)|$)")
# Where a run-on sentence (a list of dozens of names, a table turned to text) may be cut instead.
_PHRASE = re.compile(r"[^，,、：:\s]+(?:[，,、：:]|\s+|$)")


def sentence_spans(text: str, at_semicolons: bool = True) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, closing punctuation included, surrounding space not.

    With ``at_semicolons`` a ；-clause counts as a sentence of its own.
    """
    spans = []
    for match in (_SENTENCE if at_semicolons else _FULL_SENTENCE).finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            start = match.start() + raw.index(stripped)
            spans.append((start, start + len(stripped)))
    return spans


def sentences(text: str, at_semicolons: bool = True) -> list[str]:
    """The sentences of ``text``, each with its closing punctuation."""
    return [text[start:end] for start, end in sentence_spans(text, at_semicolons)]


def part_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text`` into parts of whole sentences, each at most about ``max_chars`` long and of similar length.

    Length counts characters other than whitespace, so that a text cuts alike whether or not its
    lines were joined. A text within the bound is one part. A sentence longer than the bound is
    cut at commas, and a phrase longer still at the bound itself. The parts cover the text from
    its first sentence to its last, in order.
    """
    filled = list(accumulate((not ch.isspace() for ch in text), initial=0))

    def size(start: int, end: int) -> int:
        return filled[end] - filled[start]

    if size(0, len(text)) <= max_chars:
        return [(0, len(text))]
    pieces = [piece for span in sentence_spans(text) for piece in _fitting(text, span, max_chars)]
    count = math.ceil(size(pieces[0][0], pieces[-1][1]) / max_chars)
    target = size(pieces[0][0], pieces[-1][1]) / count
    parts: list[tuple[int, int]] = []
    start = pieces[0][0]
    for (_, end), following in zip(pieces, [*pieces[1:], None], strict=True):
        if following is None:
            parts.append((start, end))
            break
        longer = size(start, following[1])
        # Close the part here when stopping is as close to the target as taking the next piece too.
        if longer > max_chars or abs(size(start, end) - target) <= abs(longer - target):
            parts.append((start, end))
            start = following[0]
    return parts


def _fitting(text: str, span: tuple[int, int], max_chars: int) -> list[tuple[int, int]]:
    """One sentence as pieces within ``max_chars``: itself, its comma-separated phrases, or fixed-size cuts."""
    start, end = span
    if end - start <= max_chars:
        return [span]
    pieces = []
    for match in _PHRASE.finditer(text, start, end):
        if match.end() - match.start() <= max_chars:
            pieces.append((match.start(), match.end()))
        else:
            pieces.extend((at, min(at + max_chars, match.end())) for at in range(match.start(), match.end(), max_chars))
    return pieces
