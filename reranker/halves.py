"""Which NCP notices the project's reranker may be trained on: the training half, by the MD5 of the doc id.

Notices whose doc id's MD5 hex digest begins with 0-7 may be trained on, with questions the team wrote about
them; the other half, the Guangxi notice and its gold questions never are: they measure whether the model
carries over to notices it never saw.
"""

from __future__ import annotations

import hashlib

TRAINING_DIGITS = "01234567"


def in_training_half(doc_id: str) -> bool:
    """Whether the notice ``doc_id`` may be trained on."""
    return hashlib.md5(doc_id.encode()).hexdigest()[0] in TRAINING_DIGITS
