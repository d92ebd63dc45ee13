"""How the Retriever ranks, as data: every weight, depth and threshold in one place, with its measured default."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from corpus.regions import region_named
from index.bm25 import VARIANT
from retrieval.answerability import Thresholds
from retrieval.expiry import EXPIRED_POLICIES

# Which candidates a reranker reorders (RankingConfig.rerank_scope).
RERANK_SCOPES = ("notice", "all")


@dataclass(frozen=True)
class RankingConfig:
    """The ranking's settings; service settings make one (``Settings.ranking_config``) and eval records it.

    The defaults were chosen on the tuning part of the gold set (legs' weights, window weight) and the
    NCP dev questions (notice weight); README, *Evaluation*.
    """

    # Weights of the two legs in hybrid mode, over their min-max normalised scores.
    bm25_weight: float = 0.3
    dense_weight: float = 0.7
    # How deep each leg ranks before fusion; deeper than any top_k a caller may ask for.
    candidates: int = 100
    # A passage's dense score is its similarity plus this times its closest window's.
    window_weight: float = 1.5
    # Where the notices' BM25 tells them apart, the notice's score takes this share of a passage's hybrid score.
    # Chosen on the NCP dev questions (notice / answer Hit@1 0.846 / 0.634 at 0.4, 0.843 / 0.631 at 0.5, 0.846 /
    # 0.631 at 0.6, 0.829 / 0.629 at 0.3); the team's two held-out samples confirm it (0.5 → 0.4: notice Hit@1
    # 0.879 → 0.894 and 0.787 → 0.813).
    notice_weight: float = 0.4
    # The share of a candidate's hybrid score that its notice's fit to the place asked about takes
    # (retrieval/jurisdiction.py), over the best ``place_depth`` candidates; and the region a question that names
    # no place is about (a 福建省/三明市 label or a name), else the whole country.
    place_weight: float = 0.2
    place_depth: int = 50
    home_region: str | None = None
    # The share of a candidate's hybrid score that the question's naming its notice (by 文号 or 《title》) takes,
    # over the same candidates (retrieval/citation.py). Half: a reader who names a notice wants its clauses unless
    # they fit the question far worse than another's. The dev questions cannot choose it: one moves, the same
    # from 0.15 to 0.5.
    citation_weight: float = 0.5
    # Notices past their stated end of validity, among the best ``place_depth`` candidates: ``mark`` keeps them,
    # ranked with ``expired_share`` of their score (below those in force), ``hide`` drops them; not when the
    # question names a year they were in force in.
    expired: str = "mark"
    expired_share: float = 0.8
    # Among the best notice's best ``rerank_depth`` clauses, a news report's lead into which its headline runs is
    # placed as if it scored ``lead_share`` of its score, and a paragraph that announces what follows (…通知如下：)
    # ``announcement_share`` (retrieval/introductions.py); the clauses keep the places they held, so which notice is
    # first does not change. Chosen on the NCP dev questions, answer Hit@1: the lead at 1, 0.95, 0.9, 0.85, 0.8
    # 0.637, 0.649, 0.646, 0.646, 0.637 (0.9, the middle of what gains); then the announcement at 1, 0.9, 0.8, 0.7, 0.5
    # 0.646, 0.654, 0.660, 0.660, 0.657. The team's two held-out samples confirm both (0.699 → 0.709 → 0.713 and
    # 0.683 → 0.692 → 0.695).
    lead_share: float = 0.9
    announcement_share: float = 0.8
    # How many of the best first-stage candidates a reranker reads, and its share of their final score (its
    # probability beside the first stage's score over the best one's). Chosen with the 6-layer policyqa reranker on
    # the NCP dev questions: answer Hit@1 0.643 at depth 5 and 0.3, 0.634 at 0.5, 0.626 at 0.7 (0.623 without);
    # depth 10 ranked the same for twice the reading.
    rerank_depth: int = 5
    rerank_weight: float = 0.3
    # Which candidates the reranker reorders: ``notice``, the best ``rerank_depth`` clauses of the first stage's
    # best notice, each in one of the places they held (so the notice the first stage chose stays first and other
    # notices' clauses keep their places); ``all``, the best ``rerank_depth`` whatever their notice. With the
    # policyqa reranker (v1) on the NCP dev questions, answer Hit@1 0.689 against 0.649 for ``all`` (0.623
    # without), and notice Hit@1 0.834 against 0.809: the reranker reads a clause without its notice, so across
    # notices it moved answers to the wrong one.
    rerank_scope: str = "notice"
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        for name in (
            "bm25_weight",
            "dense_weight",
            "notice_weight",
            "place_weight",
            "citation_weight",
            "expired_share",
            "lead_share",
            "announcement_share",
            "rerank_weight",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if min(self.candidates, self.rerank_depth, self.place_depth) < 1:
            raise ValueError(
                "candidates, rerank_depth and place_depth must be at least 1, got "
                f"{self.candidates}, {self.rerank_depth}, {self.place_depth}"
            )
        if self.rerank_scope not in RERANK_SCOPES:
            raise ValueError(f"rerank_scope must be one of {', '.join(RERANK_SCOPES)}, got {self.rerank_scope!r}")
        if self.expired not in EXPIRED_POLICIES:
            raise ValueError(f"expired must be one of {', '.join(EXPIRED_POLICIES)}, got {self.expired!r}")
        if self.home_region is not None and region_named(self.home_region) is None:
            raise ValueError(
                f"home_region {self.home_region!r} is not a region of China (e.g. 福建省/三明市, 三明, 全国)"
            )

    def record(self) -> dict[str, Any]:
        """The settings as plain data, with the BM25 variant: what an eval report or /readyz shows."""
        return {**asdict(self), "thresholds": self.thresholds._asdict(), "bm25_variant": VARIANT}
