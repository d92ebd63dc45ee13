"""Convert the NCPPolicies questions (../shared/external/ncppolicies) into a dataset for ``policyqa eval --dataset``.

The data's licence is unknown: it is read from where it lies and written outside the repository
(the notices are linked, not copied). Usage::

    python -m eval.ncp ../shared/external/ncppolicies /tmp/ncp-dev
    policyqa eval --dataset /tmp/ncp-dev
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def convert(source: Path, target: Path, questions: str = "questions-dev.tsv") -> int:
    """Write ``target/{notices,queries.jsonl,answers.jsonl}`` from ``source``; return how many questions."""
    if not (source / "notices").is_dir() or not (source / questions).is_file():
        raise SystemExit(f"{source}: expected notices/ and {questions}")
    repository = Path(__file__).resolve().parent.parent
    if target.resolve().is_relative_to(repository):
        raise SystemExit(f"{target}: write the dataset outside the repository; its licence is unknown")
    target.mkdir(parents=True, exist_ok=True)
    notices = target / "notices"
    if not notices.exists():
        notices.symlink_to((source / "notices").resolve(), target_is_directory=True)
    count = 0
    with (
        (source / questions).open(encoding="utf-8", newline="") as rows,
        (target / "queries.jsonl").open("w", encoding="utf-8") as queries,
        (target / "answers.jsonl").open("w", encoding="utf-8") as answers,
    ):
        for row in csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE):
            queries.write(json.dumps({"_id": row["qid"], "text": row["question"]}, ensure_ascii=False) + "\n")
            answer = {"query-id": row["qid"], "doc-id": row["docid"], "answer": row["answer"].strip()}
            answers.write(json.dumps(answer, ensure_ascii=False) + "\n")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the ncppolicies folder (notices/, questions-dev.tsv)")
    parser.add_argument("target", type=Path, help="where to write the dataset, outside the repository")
    parser.add_argument("--questions", default="questions-dev.tsv", help="the questions file in source")
    args = parser.parse_args()
    print(f"wrote {convert(args.source, args.target, args.questions)} questions to {args.target}")


if __name__ == "__main__":
    main()
