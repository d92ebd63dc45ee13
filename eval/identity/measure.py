"""Measure how well the parser reads a notice's identity, against the team's hand-made labels.

    python -m eval.identity.measure ../shared/external/ncppolicies/notices

For each field: how many notices the labels give it for, how many the parser gives it for, how many of
those agree (titles and organ names compared without spaces and 《》), and so precision and recall.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from corpus import DEFAULT_CORPUS_DIR, load_notice
from corpus.models import Document

LABELS = Path(__file__).parent / "labels.jsonl"
FIELDS = ("title", "issuer", "date", "number", "region", "kind", "valid_from", "valid_until")


def _plain(text: str) -> str:
    return re.sub(r"[\s《》]", "", text)


def read_fields(document: Document) -> dict[str, object]:
    """What the parser reads, in the labels' terms: the issuer as its organs' names run together (a page may
    break one name over two lines, or join two organs with a space)."""
    identity = document.identity
    return {
        "title": _plain(document.title),
        "issuer": re.sub(r"[\s、,，]", "", identity.issuer) if identity.issuer else None,
        **{field: getattr(identity, field) for field in FIELDS[2:]},
    }


def labelled_fields(label: dict[str, object]) -> dict[str, object]:
    issuers = label["issuers"]
    assert isinstance(issuers, list)
    return {
        "title": _plain(str(label["title"])) if label["title"] else None,
        "issuer": "".join(_plain(organ) for organ in issuers) or None,
        **{field: label[field] for field in FIELDS[2:]},
    }


def measure(notices_dir: Path) -> dict[str, dict[str, int]]:
    """Per field: ``labelled``, ``read`` and ``correct`` counts over the labelled notices."""
    counts = {field: {"labelled": 0, "read": 0, "correct": 0} for field in FIELDS}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        path = notices_dir / f"{label['doc_id']}.txt"
        if not path.exists():
            path = DEFAULT_CORPUS_DIR / f"{label['doc_id']}.txt"
        truth, read = labelled_fields(label), read_fields(load_notice(path).document)
        for field in FIELDS:
            counts[field]["labelled"] += truth[field] is not None
            counts[field]["read"] += read[field] is not None
            counts[field]["correct"] += read[field] is not None and read[field] == truth[field]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notices", type=Path, help="the NCP notices folder (<docid>.txt)")
    counts = measure(parser.parse_args().notices)
    print("| field | labelled | read | correct | precision | recall |")
    print("|---|---|---|---|---|---|")
    for field, count in counts.items():
        precision = count["correct"] / count["read"] if count["read"] else float("nan")
        recall = count["correct"] / count["labelled"] if count["labelled"] else float("nan")
        print(
            f"| {field} | {count['labelled']} | {count['read']} | {count['correct']} | {precision:.2f} | {recall:.2f} |"
        )


if __name__ == "__main__":
    main()
