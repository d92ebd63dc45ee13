"""Measure follow-up questions: Hit@1 of each conversation's first turn, of its second turn asked alone, and of its
second turn asked with the first as history (retrieval/followup.py resolves it).

    python -m eval.conversations.measure ../shared/external/ncppolicies/notices [--index-base DIR] [--show SPLIT]

The NCP conversations are asked of an index of all the NCP notices (``<index-base>/conversations-ncp``), the
Guangxi ones of the default notice (``<index-base>/conversations-guangxi``), ranked as the service ranks by its
settings. A turn is answered at 1 when the first result is a labelled passage, or holds one as a copy of the same
text in another notice.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus import DEFAULT_CORPUS_DIR, load_notice
from index import open_index
from retrieval import Retrieval, RetrievalRequest, Retriever, make_reranker
from service.settings import get_settings

CONVERSATIONS = Path(__file__).parent / "conversations.jsonl"
CORPORA = ("ncp", "guangxi")
SPLITS = ("tuning", "untouched")


@dataclass(frozen=True)
class Turn:
    question: str
    passage_ids: frozenset[str]
    self_contained: bool = False  # a second turn that names its own subject, to be searched as asked


@dataclass(frozen=True)
class Conversation:
    cid: str
    corpus: str  # one of CORPORA
    split: str  # one of SPLITS
    turns: tuple[Turn, Turn]


@dataclass(frozen=True)
class Outcome:
    """How one conversation fared: each measured search's hit at 1, and the question searched for turn 2."""

    conversation: Conversation
    first: bool
    second_alone: bool
    second_with_history: bool
    searched: str


def load_conversations(path: Path = CONVERSATIONS) -> list[Conversation]:
    """The conversations in ``path``; raise ValueError naming the line of one that is not of the schema."""
    conversations = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            first, second = (
                Turn(t["question"], frozenset(t["passage_ids"]), t.get("self_contained", False)) for t in row["turns"]
            )
            conversation = Conversation(row["cid"], row["corpus"], row["split"], (first, second))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: not a two-turn conversation ({exc})") from exc
        if conversation.corpus not in CORPORA or conversation.split not in SPLITS:
            raise ValueError(f"{path}:{number}: corpus must be one of {CORPORA}, split one of {SPLITS}")
        conversations.append(conversation)
    return conversations


def check_labels(conversations: Sequence[Conversation], notices: dict[str, Path]) -> None:
    """Raise ValueError naming every labelled passage id that the notices (as the parser reads them now) lack."""
    known: dict[str, set[str]] = {}
    missing = []
    for conversation in conversations:
        for turn in conversation.turns:
            for passage_id in sorted(turn.passage_ids):
                doc_id = passage_id.rsplit(":", 1)[0]
                if doc_id not in known:
                    path = notices[conversation.corpus] / f"{doc_id}.txt"
                    known[doc_id] = {p.passage_id for p in load_notice(path).passages} if path.is_file() else set()
                if passage_id not in known[doc_id]:
                    missing.append(f"{conversation.cid}: {passage_id}")
    if missing:
        raise ValueError("labelled passages the notices lack: " + "; ".join(missing))


def answered_first(retrieval: Retrieval, passage_ids: frozenset[str]) -> bool:
    """The first result is a labelled passage, or its copies (the same text in other notices) hold one."""
    if not retrieval.hits:
        return False
    first = retrieval.hits[0]
    return any(passage.passage_id in passage_ids for passage in (first.passage, *first.copies))


def measure(conversation: Conversation, retriever: Retriever) -> Outcome:
    first, second = conversation.turns
    with_history = retriever.search(RetrievalRequest(second.question, top_k=1, history=(first.question,)))
    return Outcome(
        conversation,
        answered_first(retriever.search(RetrievalRequest(first.question, top_k=1)), first.passage_ids),
        answered_first(retriever.search(RetrievalRequest(second.question, top_k=1)), second.passage_ids),
        answered_first(with_history, second.passage_ids),
        with_history.searched,
    )


def table(outcomes: Sequence[Outcome]) -> list[str]:
    """Hit@1 per group of conversations, as a Markdown table."""
    groups = {
        "all": outcomes,
        **{corpus: [o for o in outcomes if o.conversation.corpus == corpus] for corpus in CORPORA},
        **{f"{split} split": [o for o in outcomes if o.conversation.split == split] for split in SPLITS},
        "elliptical turn 2 only": [o for o in outcomes if not o.conversation.turns[1].self_contained],
    }
    lines = [
        "| conversations | n | turn 1 Hit@1 | turn 2 alone | turn 2 with history | with history / turn 1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, group in groups.items():
        if not group:
            continue
        first, alone, resolved = (sum(getattr(o, f) for o in group) / len(group) for f in _MEASURED)
        ratio = f"{resolved / first:.2f}" if first else "–"
        lines.append(f"| {name} | {len(group)} | {first:.3f} | {alone:.3f} | {resolved:.3f} | {ratio} |")
    kept = [o for o in outcomes if o.conversation.turns[1].self_contained]
    unchanged = sum(o.searched == o.conversation.turns[1].question for o in kept)
    lines.append("")
    lines.append(f"self-contained second turns searched as asked: {unchanged}/{len(kept)}")
    return lines


_MEASURED = ("first", "second_alone", "second_with_history")


def _retriever(corpus_dir: Path, index_dir: Path) -> Retriever:
    """The Retriever the service would rank ``corpus_dir`` with, by its settings, on an index in ``index_dir``."""
    settings = get_settings().model_copy(update={"corpus_dir": corpus_dir, "index_dir": index_dir})
    index, _ = open_index(settings.index_config(), progress=sys.stderr.isatty())
    return Retriever(index, settings.ranking_config(), make_reranker(settings.reranker, settings.reranker_device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ncp_notices", type=Path, help="the NCP notices folder (<docid>.txt)")
    parser.add_argument(
        "--index-base",
        type=Path,
        default=get_settings().index_dir.parent / "datasets",
        help="where the two indexes are kept (default: beside the service's index, under datasets/)",
    )
    parser.add_argument("--show", choices=SPLITS, help="print each conversation of this split, as searched")
    args = parser.parse_args()
    notices = {"ncp": args.ncp_notices, "guangxi": DEFAULT_CORPUS_DIR}
    conversations = load_conversations()
    check_labels(conversations, notices)
    outcomes = []
    for corpus in CORPORA:
        retriever = _retriever(notices[corpus], args.index_base / f"conversations-{corpus}")
        outcomes += [measure(c, retriever) for c in conversations if c.corpus == corpus]
    for outcome in outcomes:
        if outcome.conversation.split == args.show:
            marks = "".join("+" if getattr(outcome, f) else "-" for f in _MEASURED)
            print(f"{outcome.conversation.cid} {marks} {outcome.conversation.turns[1].question} → {outcome.searched}")
    print("\n".join(table(outcomes)))


if __name__ == "__main__":
    main()
