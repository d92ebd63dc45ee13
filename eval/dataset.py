"""The gold set in BEIR form (corpus.jsonl, queries.jsonl and qrels/<split>.tsv under eval/gold/),
and datasets of the same form built from any notices folder.

A dataset directory holds ``notices/`` (the notice files, indexed as a corpus), ``queries.jsonl``,
and its judgements: ``answers.jsonl`` (``{"query-id", "doc-id", "answer"}``: the notice and the
text that answer each question) and/or ``qrels/test.tsv`` (passage ids, as in the gold set).
"""

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


@dataclass(frozen=True)
class Answer:
    """What answers a question: the notice (its file name without extension) and the answer's text."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class Dataset:
    """A BEIR-style dataset built from a notices folder."""

    root: Path
    queries: list[Query]
    answers: dict[str, Answer]
    qrels: Qrels

    @property
    def notices_dir(self) -> Path:
        return self.root / "notices"


def load_dataset(root: Path) -> Dataset:
    """Read a dataset directory; raise ValueError naming what is missing from it."""
    if not (root / "notices").is_dir() or not (root / "queries.jsonl").is_file():
        raise ValueError(f"{root}: a dataset needs notices/ and queries.jsonl")
    queries = []
    with (root / "queries.jsonl").open(encoding="utf-8") as rows:
        for line in rows:
            if line.strip():
                row = json.loads(line)
                queries.append(Query(row["_id"], row["text"], row.get("metadata", {}).get("type", "question"), "test"))
    answers = {}
    if (root / "answers.jsonl").is_file():
        with (root / "answers.jsonl").open(encoding="utf-8") as rows:
            for line in rows:
                if line.strip():
                    row = json.loads(line)
                    answers[row["query-id"]] = Answer(row["doc-id"], row["answer"])
    qrels = _read_qrels(root / "qrels" / "test.tsv") if (root / "qrels" / "test.tsv").is_file() else {}
    if not answers and not qrels:
        raise ValueError(f"{root}: a dataset needs answers.jsonl or qrels/test.tsv to judge its questions by")
    return Dataset(root, queries, answers, qrels)


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
    return _read_qrels(gold_dir / "qrels" / f"{split}.tsv")


def _read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    with path.open(encoding="utf-8", newline="") as rows:
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
