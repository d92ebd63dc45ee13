"""Build the BEIR-style gold files from ``questions.source.jsonl``.

The hand-written questions live in ``questions.source.jsonl`` (one JSON object
per line with ``_id``, ``text``, ``type``, ``variant_of`` and ``relevant``, a
list of ``{"corpus_id": ..., "score": ...}``).  This script assigns every
question to the ``tuning`` or ``heldout`` split once, with a seeded random
split stratified by question type, and writes:

* ``queries.jsonl``       -- ``{"_id", "text", "metadata": {"type", "split"[, "variant_of"]}}``
* ``qrels/tuning.tsv``    -- ``query-id<TAB>corpus-id<TAB>score`` for tuning queries
* ``qrels/heldout.tsv``   -- the same for held-out queries

Split rule: for every type except ``traditional``, the type's ids are sorted,
shuffled with ``random.Random(SEED)`` (types visited in sorted order, one
generator for the whole run) and the first ``round(n * TUNING_SHARE)`` go to
``tuning``.  A ``traditional`` question is a traditional-character variant of
another question and always goes to the same split as that original, so the
two never straddle the tuning / held-out boundary.

Run from anywhere: ``python3 eval/gold/make_split.py``.  Standard library only.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import TypedDict

SEED = 20201
TUNING_SHARE = 0.55
VARIANT_TYPE = "traditional"
SPLITS = ("tuning", "heldout")

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "questions.source.jsonl"
QUERIES = HERE / "queries.jsonl"
QRELS_DIR = HERE / "qrels"


class Relevant(TypedDict):
    """One judged passage for a question."""

    corpus_id: str
    score: int


class Question(TypedDict):
    """One line of ``questions.source.jsonl``."""

    _id: str
    text: str
    type: str
    variant_of: str | None
    relevant: list[Relevant]


def load_questions(path: Path) -> list[Question]:
    """Read the source file, skipping blank lines."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def assign_splits(questions: list[Question]) -> dict[str, str]:
    """Return ``{query id: split}`` using the seeded stratified rule above."""
    rng = random.Random(SEED)
    by_type: dict[str, list[str]] = {}
    for q in questions:
        if q["type"] != VARIANT_TYPE:
            by_type.setdefault(q["type"], []).append(q["_id"])

    split: dict[str, str] = {}
    for qtype in sorted(by_type):
        ids = sorted(by_type[qtype])
        rng.shuffle(ids)
        n_tuning = round(len(ids) * TUNING_SHARE)
        for i, qid in enumerate(ids):
            split[qid] = "tuning" if i < n_tuning else "heldout"

    for q in questions:
        if q["type"] == VARIANT_TYPE:
            original = q["variant_of"]
            if original is None or original not in split:
                raise ValueError(f"{q['_id']}: variant_of {original!r} is not a non-variant query")
            split[q["_id"]] = split[original]
    return split


def write_outputs(questions: list[Question], split: dict[str, str]) -> None:
    """Write ``queries.jsonl`` and one qrels TSV per split."""
    ordered = sorted(questions, key=lambda q: q["_id"])
    with QUERIES.open("w", encoding="utf-8", newline="\n") as fh:
        for q in ordered:
            metadata: dict[str, str] = {"type": q["type"], "split": split[q["_id"]]}
            if q["variant_of"]:
                metadata["variant_of"] = q["variant_of"]
            record = {"_id": q["_id"], "text": q["text"], "metadata": metadata}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    QRELS_DIR.mkdir(exist_ok=True)
    for name in SPLITS:
        with (QRELS_DIR / f"{name}.tsv").open("w", encoding="utf-8", newline="\n") as fh:
            fh.write("query-id\tcorpus-id\tscore\n")
            for q in ordered:
                if split[q["_id"]] != name:
                    continue
                for rel in q["relevant"]:
                    fh.write(f"{q['_id']}\t{rel['corpus_id']}\t{rel['score']}\n")


def main() -> int:
    """Build the split and print counts per type and split."""
    questions = load_questions(SOURCE)
    ids = [q["_id"] for q in questions]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate query ids in source")
    split = assign_splits(questions)
    write_outputs(questions, split)

    counts = Counter((q["type"], split[q["_id"]]) for q in questions)
    for qtype in sorted({q["type"] for q in questions}):
        row = "  ".join(f"{name}={counts[(qtype, name)]}" for name in SPLITS)
        print(f"{qtype:<13} {row}")
    totals = Counter(split.values())
    print(f"{'total':<13} " + "  ".join(f"{name}={totals[name]}" for name in SPLITS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
