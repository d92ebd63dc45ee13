"""The gold set in BEIR form: corpus.jsonl, queries.jsonl and qrels/<split>.tsv under eval/gold/."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from corpus import DEFAULT_CORPUS_DIR, Passage, load_corpus

GOLD_DIR = Path(__file__).parent / "gold"
SPLITS = ("tuning", "heldout")
Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Query:
    """A gold question: its id, text, type (paraphrase, english, unanswerable, …) and split."""

    qid: str
    text: str
    type: str
    split: str


def load_queries(split: str, gold_dir: Path = GOLD_DIR) -> list[Query]:
    """The questions of one split, in file order; raise ValueError naming the splits for an unknown one."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    queries = []
    with (gold_dir / "queries.jsonl").open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            meta = row["metadata"]
            if meta["split"] == split:
                queries.append(Query(row["_id"], row["text"], meta["type"], meta["split"]))
    return queries


def load_qrels(split: str, gold_dir: Path = GOLD_DIR) -> Qrels:
    """``{query_id: {passage_id: grade}}`` for one split (2: answers fully, 1: in part)."""
    qrels: Qrels = {}
    with (gold_dir / "qrels" / f"{split}.tsv").open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def corpus_rows(passages: list[Passage]) -> list[dict[str, object]]:
    """Passages as BEIR corpus rows: ``_id``, ``title`` (the citation) and ``text``."""
    return [{"_id": p.passage_id, "title": p.citation, "text": p.text} for p in passages]


def write_corpus(path: Path = GOLD_DIR / "corpus.jsonl", corpus_dir: Path = DEFAULT_CORPUS_DIR) -> int:
    """Write the parsed default corpus as BEIR ``corpus.jsonl``; return how many passages it holds."""
    rows = corpus_rows(load_corpus(corpus_dir).passages)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {write_corpus()} passages to {GOLD_DIR / 'corpus.jsonl'}")
