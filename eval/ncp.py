"""Convert the NCPPolicies questions (../shared/external/ncppolicies), or the team's own questions about those
notices (eval/team/), into a dataset for ``policyqa eval --dataset``.

The data's licence is unknown: it is read from where it lies and written outside the repository
(the notices are linked, not copied). Each question's type says which half of the notices its answer
lies in (``training-half``: the notices the project's reranker may be trained on, ``other-half``), so
every figure is reported for both; the team's off-topic questions have no answer (``off-topic``)::

    python -m eval.ncp ../shared/external/ncppolicies /tmp/ncp-dev
    python -m eval.ncp ../shared/external/ncppolicies /tmp/ncp-team --team eval/team
    policyqa eval --dataset /tmp/ncp-dev

``--across`` asks them of another library instead: the default Guangxi notice, with the gold set's held-out
questions and their judgements beside them. There every NCP question is off-topic (the notice answers none), so
the dataset measures whether ``answerable`` carries over from one corpus to another::

    python -m eval.ncp ../shared/external/ncppolicies /tmp/ncp-across --across
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from corpus import DEFAULT_CORPUS_DIR
from eval.dataset import load_qrels, load_queries
from reranker.halves import in_training_half

TEAM_DIR = Path(__file__).parent / "team"


def half(doc_id: str) -> str:
    """``training-half`` or ``other-half``: the question type that says which notices answer it."""
    return "training-half" if in_training_half(doc_id) else "other-half"


def convert(source: Path, target: Path, questions: str = "questions-dev.tsv") -> int:
    """Write ``target/{notices,queries.jsonl,answers.jsonl}`` from the competition's ``questions`` file in
    ``source``; return how many questions."""
    if not (source / questions).is_file():
        raise SystemExit(f"{source}: expected notices/ and {questions}")
    with (source / questions).open(encoding="utf-8", newline="") as rows:
        read = list(csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE))
    return _write(source, target, ((r["qid"], r["question"], r["docid"], r["answer"].strip()) for r in read))


def convert_team(source: Path, target: Path, team_dir: Path = TEAM_DIR) -> int:
    """The same from the team's questions: answers are the notice's text at each question's ``answer_chars``
    (read from ``source`` now, never stored), and the off-topic questions have none."""
    rows = []
    for question in _jsonl(team_dir / "questions-other-half.jsonl"):
        text = (source / "notices" / f"{question['doc_id']}.txt").read_text(encoding="utf-8")
        start, end = question["answer_chars"]
        rows.append((question["qid"], question["question"], question["doc_id"], text[start:end]))
    rows += [(q["qid"], q["question"], None, None) for q in _jsonl(team_dir / "off-topic.jsonl")]
    return _write(source, target, rows)


def convert_across(source: Path, target: Path, questions: str = "questions-dev.tsv", split: str = "heldout") -> int:
    """Write a dataset of the default notice: the gold set's ``split`` questions with their judged passages, and the
    competition's ``questions`` as off-topic ones; return how many questions."""
    if not (source / questions).is_file():
        raise SystemExit(f"{source}: expected {questions}")
    with (source / questions).open(encoding="utf-8", newline="") as rows:
        read = list(csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE))
    target = _prepare(target, DEFAULT_CORPUS_DIR)
    gold = load_queries(split)
    with (target / "queries.jsonl").open("w", encoding="utf-8") as out:
        for query in gold:
            row = {"_id": query.qid, "text": query.text, "metadata": {"type": query.type}}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        for row in read:
            query = {"_id": f"ncp-{row['qid']}", "text": row["question"], "metadata": {"type": "off-topic"}}
            out.write(json.dumps(query, ensure_ascii=False) + "\n")
    (target / "qrels").mkdir(exist_ok=True)
    with (target / "qrels" / "test.tsv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t")
        writer.writerow(["query-id", "corpus-id", "score"])
        for qid, judged in load_qrels(split).items():
            writer.writerows([qid, passage_id, grade] for passage_id, grade in judged.items())
    return len(gold) + len(read)


def _prepare(target: Path, notices_dir: Path) -> Path:
    """``target``, created outside the repository, with ``notices/`` linked to ``notices_dir``."""
    repository = Path(__file__).resolve().parent.parent
    if target.resolve().is_relative_to(repository):
        raise SystemExit(f"{target}: write the dataset outside the repository; its licence is unknown")
    target.mkdir(parents=True, exist_ok=True)
    notices = target / "notices"
    if not notices.exists():
        notices.symlink_to(notices_dir.resolve(), target_is_directory=True)
    return target


def _write(source: Path, target: Path, rows: Iterable[tuple[str, str, str | None, str | None]]) -> int:
    """Link the notices and write the questions, typed by half, and their answers."""
    if not (source / "notices").is_dir():
        raise SystemExit(f"{source}: expected notices/")
    target = _prepare(target, source / "notices")
    count = 0
    with (
        (target / "queries.jsonl").open("w", encoding="utf-8") as queries,
        (target / "answers.jsonl").open("w", encoding="utf-8") as answers,
    ):
        for qid, question, doc_id, answer in rows:
            kind = "off-topic" if doc_id is None else half(doc_id)
            query = {"_id": qid, "text": question, "metadata": {"type": kind}}
            queries.write(json.dumps(query, ensure_ascii=False) + "\n")
            if doc_id is not None:
                answers.write(
                    json.dumps({"query-id": qid, "doc-id": doc_id, "answer": answer}, ensure_ascii=False) + "\n"
                )
            count += 1
    return count


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as rows:
        yield from (json.loads(line) for line in rows if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the ncppolicies folder (notices/, questions-dev.tsv)")
    parser.add_argument("target", type=Path, help="where to write the dataset, outside the repository")
    parser.add_argument("--questions", default="questions-dev.tsv", help="the competition's questions file in source")
    parser.add_argument("--team", type=Path, help="convert the team's questions in this folder (eval/team) instead")
    parser.add_argument(
        "--across", action="store_true", help="ask the questions of the default notice, beside its gold questions"
    )
    args = parser.parse_args()
    if args.team:
        count = convert_team(args.source, args.target, args.team)
    elif args.across:
        count = convert_across(args.source, args.target, args.questions)
    else:
        count = convert(args.source, args.target, args.questions)
    print(f"wrote {count} questions to {args.target}")


if __name__ == "__main__":
    main()
