"""Fuse rankings from several retrievers into one, as plain ``{passage_id: score}`` runs."""

from __future__ import annotations

from collections.abc import Mapping

Run = Mapping[str, float]

RRF_K = 60


def ranks(run: Run) -> dict[str, int]:
    """1-based rank of each id in ``run`` by descending score (ties keep the run's order)."""
    ordered = sorted(run.items(), key=lambda item: -item[1])
    return {key: rank for rank, (key, _) in enumerate(ordered, start=1)}


def rrf(runs: Mapping[str, Run], k: int = RRF_K) -> dict[str, dict[str, float]]:
    """Reciprocal rank fusion: each run adds ``1 / (k + rank)`` to every id it ranks.

    Cormack, Clarke and Buettcher, "Reciprocal rank fusion outperforms Condorcet and
    individual rank learning methods", SIGIR 2009. ``runs`` are named (``bm25``, ``dense``);
    the result gives, for each id, what each named run contributed. The fused score is
    the sum of the contributions.
    """
    contributions: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        for key, rank in ranks(run).items():
            contributions.setdefault(key, {})[name] = 1.0 / (k + rank)
    return contributions


def weighted(
    runs: Mapping[str, Run], weights: Mapping[str, float], floors: Mapping[str, float] | None = None
) -> dict[str, dict[str, float]]:
    """Convex combination of min-max normalised scores: each run adds ``weight * (score - lo) / (hi - lo)``.

    Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 2023.
    ``lo`` is the run's lowest score, or its ``floors`` entry where the score has a natural
    floor (0 for BM25, so that a passage matching few terms is not lifted to the bottom of the scale
    of one matching many). Returns each id's contribution per run, as ``rrf`` does.
    """
    contributions: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        if not run:
            continue
        lo = (floors or {}).get(name, min(run.values()))
        span = max(run.values()) - lo
        for key, value in run.items():
            contributions.setdefault(key, {})[name] = weights[name] * ((value - lo) / span if span > 0 else 1.0)
    return contributions
