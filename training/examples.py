"""The reranker's training examples: the team's questions, their answering clauses, and hard negatives mined from
the first stage over the training half of the NCP notices.

Training reads only notices whose doc id ``allowed`` admits: by default the training half
(``reranker.halves.in_training_half``), so that the other half measures whether the model carries over to notices
it never saw. A question asked of any other notice is refused by name before a file is read.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from corpus.loader import Corpus, Notice, load_notice, notice_files
from index.builder import build_index
from index.clauses import lexical_text
from index.embedders import Embedder
from index.embedding_cache import CachedEmbedder
from reranker.halves import in_training_half
from retrieval import RetrievalRequest, Retriever
from retrieval.copies import clause_text

QUESTIONS = Path(__file__).parent / "data" / "questions-train.jsonl"
DEPTH = 30
VALIDATION_SHARE = 0.1
# Two notices are copies (a national measure republished) when half of the smaller one's clauses are in the other.
COPY_OVERLAP = 0.5


class TrainingHalfError(ValueError):
    """A question asks of a notice that training may not read."""


@dataclass(frozen=True)
class Question:
    """One line of the questions file; an off-topic question has no notice and no passages."""

    qid: str
    question: str
    doc_id: str | None
    passage_ids: tuple[str, ...]
    style: str


@dataclass(frozen=True)
class Group:
    """A question with what answers it and the first stage's candidates for it, all as the reranker reads them
    (``lexical_text``).

    ``candidates`` are the first stage's best, best first; ``relevant`` marks those that answer: a positive, or a
    clause with a positive's text (a copy of its notice). An off-topic question has no positives and no relevant
    candidate.
    """

    qid: str
    question: str
    doc_id: str | None
    positives: tuple[str, ...]
    candidates: tuple[str, ...]
    relevant: tuple[bool, ...]

    @property
    def negatives(self) -> tuple[str, ...]:
        """The candidates that do not answer, best first: the hard negatives."""
        return tuple(text for text, answers in zip(self.candidates, self.relevant, strict=True) if not answers)


class Split(NamedTuple):
    """Groups to train on, and groups of other notices (and other off-topic questions) to validate on."""

    train: list[Group]
    validation: list[Group]


def read_questions(path: Path = QUESTIONS) -> list[Question]:
    """The questions of a JSON-lines file, in order."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                Question(row["qid"], row["question"], row["doc_id"], tuple(row["passage_ids"]), row["style"])
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a question line ({exc})") from exc
    return questions


def load_training_notices(
    notices_dir: Path,
    questions: Sequence[Question],
    allowed: Callable[[str], bool] = in_training_half,
    only_asked: bool = False,
) -> list[Notice]:
    """The notices of ``notices_dir`` that ``allowed`` admits (with ``only_asked``, only those the questions ask
    of), parsed. A question asked of a notice ``allowed`` refuses raises ``TrainingHalfError`` before any file is
    read; a notice it refuses is never opened."""
    for question in questions:
        if question.doc_id is not None and not allowed(question.doc_id):
            raise TrainingHalfError(
                f"question {question.qid} is asked of notice {question.doc_id}, which is outside the training half: "
                "training never reads it"
            )
    asked = {question.doc_id for question in questions if question.doc_id is not None}
    paths = [path for path in notice_files(notices_dir) if allowed(path.stem)]
    if only_asked:
        paths = [path for path in paths if path.stem in asked]
    if missing := sorted(asked - {path.stem for path in paths}):
        raise ValueError(f"{notices_dir}: no notice file for {', '.join(missing)}, which questions are asked of")
    return [load_notice(path) for path in paths]


def mine_groups(
    questions: Sequence[Question],
    notices: Sequence[Notice],
    embedder: Embedder,
    cache_dir: Path,
    depth: int = DEPTH,
) -> list[Group]:
    """Each question's group: its positives, and the ``depth`` best candidates of a hybrid search over ``notices``
    (an in-memory index whose passage vectors are kept in ``cache_dir``), each marked whether it answers."""
    local = build_index(
        Corpus(list(notices)), embedder, progress=False, passage_embedder=CachedEmbedder(embedder, cache_dir)
    )
    retriever = Retriever(local)
    passages = {passage.passage_id: passage for notice in notices for passage in notice.passages}
    groups = []
    for question in questions:
        if unknown := [pid for pid in question.passage_ids if pid not in passages]:
            raise ValueError(f"question {question.qid}: no passage {', '.join(unknown)} in the training notices")
        positives = [passages[pid] for pid in question.passage_ids]
        answering = {clause_text(passage) for passage in positives}
        hits = retriever.search(RetrievalRequest(question.question, top_k=depth)).hits
        # A copy of a clause is folded into it by the Retriever: here it is a candidate of its own again.
        candidates = [passage for hit in hits for passage in (hit.passage, *hit.copies)][:depth]
        groups.append(
            Group(
                qid=question.qid,
                question=question.question,
                doc_id=question.doc_id,
                positives=tuple(lexical_text(passage) for passage in positives),
                candidates=tuple(lexical_text(passage) for passage in candidates),
                relevant=tuple(
                    passage.passage_id in question.passage_ids or clause_text(passage) in answering
                    for passage in candidates
                ),
            )
        )
    return groups


def split_by_notice(
    groups: Sequence[Group], notices: Sequence[Notice], share: float = VALIDATION_SHARE, seed: int = 0
) -> Split:
    """Hold out ``share`` of the asked notices (with their copies, so that none is seen in training) and ``share``
    of the off-topic questions, chosen with ``seed``; their groups validate, the rest train."""
    rng = random.Random(seed)
    asked = sorted({group.doc_id for group in groups if group.doc_id is not None})
    families = _copy_families([notice for notice in notices if notice.document.doc_id in asked])
    rng.shuffle(families)
    held: set[str] = set()
    for family in families:
        if len(held) >= share * len(asked):
            break
        held |= family
    off_topic = sorted(group.qid for group in groups if group.doc_id is None)
    held_off_topic = set(rng.sample(off_topic, round(share * len(off_topic))))
    split = Split([], [])
    for group in groups:
        validates = group.doc_id in held if group.doc_id is not None else group.qid in held_off_topic
        (split.validation if validates else split.train).append(group)
    return split


def groups_hash(groups: Iterable[Group]) -> str:
    """A SHA-256 of the groups' questions and texts: names the data a model was trained on."""
    digest = hashlib.sha256()
    for group in groups:
        row = [group.qid, group.question, group.positives, group.candidates, group.relevant]
        digest.update(json.dumps(row, ensure_ascii=False).encode())
    return digest.hexdigest()


def _copy_families(notices: Sequence[Notice]) -> list[set[str]]:
    """The notices' doc ids grouped with their copies, in doc id order."""
    texts = {notice.document.doc_id: {clause_text(p) for p in notice.passages} for notice in notices}
    family = {doc_id: doc_id for doc_id in texts}

    def root(doc_id: str) -> str:
        while family[doc_id] != doc_id:
            doc_id = family[doc_id]
        return doc_id

    ids = sorted(texts)
    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            shared = len(texts[first] & texts[second])
            if shared >= COPY_OVERLAP * min(len(texts[first]), len(texts[second])):
                family[root(second)] = root(first)
    families: dict[str, set[str]] = {}
    for doc_id in ids:
        families.setdefault(root(doc_id), set()).add(doc_id)
    return [families[key] for key in sorted(families)]
