"""Fuse rankings from several legs into one, as plain ``{passage_id: score}`` runs."""

from __future__ import annotations

from collections.abc import Mapping

from index.contract import Scores


def weighted(
    runs: Mapping[str, Scores], weights: Mapping[str, float], floors: Mapping[str, float] | None = None
) -> dict[str, dict[str, float]]:
    """Convex combination of min-max normalised scores: each run adds ``weight * (score - lo) / (hi - lo)``.

    Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 2023.
    ``lo`` is the run's lowest score, or its ``floors`` entry where the score has a natural
    floor (0 for BM25, so that a passage matching few terms is not lifted to the bottom of the scale
    of one matching many). Returns, for each id, what each named run contributed; the fused score is their sum.
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
