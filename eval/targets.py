"""Measure the README's targets in one run: the NCP dev questions, the team's samples, the NCP questions asked of the
default notice, and the gold set, all through the library ranked as the settings say (``POLICYQA_RERANKER`` …).

    python -m eval.targets ../shared/external/ncppolicies /tmp/policyqa-targets

The datasets and the two indexes (the 599 NCP notices; the default notice) are written under the work folder, outside
the repository, and an index whose notices have not changed is loaded rather than built. The latency targets are
``bench/load.py``'s and the identity ones ``python -m eval.identity.measure``'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.dataset_report import evaluate_dataset
from eval.harness import Flagging, Searcher, library_searcher
from eval.ncp import TEAM_DIR, convert, convert_across, convert_team
from eval.report import evaluate_split
from index.factory import open_index
from service.settings import Settings

# The team's held-out samples of questions on the NCP notices, with their off-topic questions.
TEAM_SAMPLES = (TEAM_DIR, TEAM_DIR / "second", TEAM_DIR / "third")
# The first stage's gold held-out figures when issue 18 was written: Hit@1, Recall@5, MRR@10.
GOLD_BEFORE = {"hit_rate@1": 0.855, "recall@5": 0.934, "mrr@10": 0.894}
MODE = "hybrid"


@dataclass(frozen=True)
class Target:
    """One row of the table: what is aimed at, what the run measured, and whether that meets it."""

    aim: str
    now: str
    met: bool


def measure(source: Path, work: Path, settings: Settings, team_samples: Sequence[Path] = TEAM_SAMPLES) -> list[Target]:
    """Convert the datasets from ``source`` (an ncppolicies folder) into ``work``, index their notices there, ask
    every question in hybrid mode and judge each target."""
    convert(source, work / "ncp-dev")
    for number, team in enumerate(team_samples, 1):
        convert_team(source, work / f"team-{number}", team)
    convert_across(source, work / "across")
    # One index of the NCP notices serves the dev questions and the team's samples; one of the default notice serves
    # the NCP questions asked of it and the gold set.
    ncp_searcher = _searcher(settings, work / "ncp-dev" / "notices", work / "index-ncp")
    default_searcher = _searcher(settings, work / "across" / "notices", work / "index-default")
    ncp = evaluate_dataset(work / "ncp-dev", ncp_searcher, [MODE])
    samples = [evaluate_dataset(work / f"team-{n}", ncp_searcher, [MODE]) for n in range(1, len(team_samples) + 1)]
    across = evaluate_dataset(work / "across", default_searcher, [MODE])
    gold = evaluate_split("heldout", default_searcher, [MODE])
    gold_now = gold.overall(gold.results[0])

    found = ncp.answer_metrics[MODE]
    other_half = ncp.answer_metrics.get(f"{MODE}, other-half", {}).get("answer_hit@1", float("nan"))
    elsewhere, named = ncp.elsewhere[MODE]
    return [
        _at_least("NCP dev answer Hit@1 ≥ 0.70 (18)", found["answer_hit@1"], 0.70),
        _at_least("NCP dev answer Hit@1 ≥ 0.65 on the other half (18)", other_half, 0.65),
        _at_least("NCP dev notice Hit@1 ≥ 0.88 (18, 19)", found["notice_hit@1"], 0.88),
        Target(
            "a top clause of another place ≤ 5% of questions that name one (19)",
            f"{elsewhere} of {named}",
            elsewhere <= 0.05 * named,
        ),
        Target(
            "gold held-out Hit@1 / Recall@5 / MRR@10 not worse than 0.855 / 0.934 / 0.894 (18)",
            " / ".join(f"{gold_now[name]:.3f}" for name in GOLD_BEFORE),
            all(round(gold_now[name], 3) >= before for name, before in GOLD_BEFORE.items()),
        ),
        *(
            _off_topic(
                f"off-topic ≥ 90% flagged at ≤ 5% of answerable, team sample {number} (18)", sample.flagging[MODE]
            )
            for number, sample in enumerate(samples, 1)
        ),
        _off_topic("the same across corpora: NCP questions asked of the default notice (18)", across.flagging[MODE]),
    ]


def table(targets: Sequence[Target]) -> list[str]:
    """The targets as markdown lines."""
    rows = [f"| {t.aim} | {t.now} | {'yes' if t.met else 'no'} |" for t in targets]
    return ["| target (issue) | now | met |", "|---|---|---|", *rows]


def _searcher(settings: Settings, notices: Path, index_dir: Path) -> Searcher:
    """The library's answers over an index of ``notices`` in ``index_dir``, built or loaded, ranked by ``settings``."""
    settings = settings.model_copy(update={"corpus_dir": notices, "index_dir": index_dir})
    index, _ = open_index(settings.index_config(), progress=sys.stderr.isatty())
    return library_searcher(settings.retriever(index))


def _at_least(aim: str, value: float, bar: float) -> Target:
    return Target(aim, f"{value:.3f}", value >= bar)


def _off_topic(aim: str, flagging: Flagging) -> Target:
    flagged, wrongly = flagging.unanswerable_flagged, flagging.answerable_flagged
    now = (
        f"{flagged} of {flagging.unanswerable} ({flagged / max(flagging.unanswerable, 1):.1%}) at {wrongly} of "
        f"{flagging.answerable} ({wrongly / max(flagging.answerable, 1):.1%})"
    )
    met = flagged >= 0.9 * flagging.unanswerable and wrongly <= 0.05 * flagging.answerable
    return Target(aim, now, met)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the ncppolicies folder (notices/, questions-dev.tsv)")
    parser.add_argument("work", type=Path, help="where the datasets and indexes go, outside the repository")
    args = parser.parse_args()
    settings = Settings()
    targets = measure(args.source, args.work, settings)
    print(f"hybrid, reranker: {settings.reranker} (POLICYQA_RERANKER)")
    print("\n".join(table(targets)))


if __name__ == "__main__":
    main()
