"""Run the gold questions through the service (the library or a running server) and score the rankings."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from eval.dataset import Qrels, Query
from retrieval import RetrievalRequest, Retriever

# ranx metric names, and how the report shows them. Hit, recall and MRR count any judged passage
# (grade 1 or 2) as relevant; nDCG uses the grades.
METRICS = {
    "hit_rate@1": "Hit@1",
    "recall@5": "Recall@5",
    "recall@10": "Recall@10",
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
}
DEPTH = 10

Run = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Result:
    """What eval judges of one ranked clause."""

    rank: int
    passage_id: str
    doc_id: str
    text: str
    highlight: str
    also_in: tuple[str, ...] = ()  # the notices whose copies of the clause the result names
    region: str | None = None  # where its notice applies

    @property
    def notices(self) -> tuple[str, ...]:
        """Every notice the result cites: its own, then those of its copies."""
        return (self.doc_id, *self.also_in)


@dataclass(frozen=True)
class Response:
    """What eval judges of one answer: the ranked clauses, and whether the notices answer the question."""

    results: list[Result]
    answerable: bool


Searcher = Callable[[str, int, str], Response]  # (query, top_k, mode)


def library_searcher(retriever: Retriever) -> Searcher:
    """Search with a Retriever in this process, as the API does."""

    def search(query: str, top_k: int, mode: str) -> Response:
        retrieval = retriever.search(RetrievalRequest(query, top_k, mode))
        results = [
            Result(
                hit.rank,
                hit.passage.passage_id,
                hit.passage.doc_id,
                hit.passage.text,
                hit.highlight,
                tuple(copy.doc_id for copy in hit.copies),
                hit.passage.identity.region,
            )
            for hit in retrieval.hits
        ]
        return Response(results, retrieval.answerable)

    return search


def library_setup(retriever: Retriever) -> dict[str, Any]:
    """What ranked a library run, for its report: the embedder, the reranker and every ranking setting."""
    reranker = retriever.reranker
    return {
        "embedder": retriever.store.embedder.id,
        "reranker": None if reranker is None else reranker.id,
        "ranking": retriever.config.record(),
    }


def server_setup(url: str, api_key: str | None = None) -> dict[str, Any]:
    """What a running server says serves it (``/readyz``), for a report of a run against it."""
    response = httpx.get(url.rstrip("/") + "/readyz", headers={"X-API-Key": api_key} if api_key else {}, timeout=30)
    return {"server": url, **response.json()}


def setup_lines(setup: dict[str, Any]) -> list[str]:
    """A report's section saying what ranked the run."""
    return ["## Ranked by", "", "```json", json.dumps(setup, ensure_ascii=False, indent=2), "```", ""]


def http_searcher(url: str, api_key: str | None = None, timeout: float = 30.0) -> Searcher:
    """Search a running server's ``POST /v1/search``."""
    client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers={"X-API-Key": api_key} if api_key else {})

    def search(query: str, top_k: int, mode: str) -> Response:
        response = client.post("/v1/search", json={"query": query, "mode": mode, "top_k": top_k})
        response.raise_for_status()
        body = response.json()
        fields = ("rank", "passage_id", "doc_id", "text", "highlight")
        results = [
            Result(
                **{name: result[name] for name in fields},
                also_in=tuple(copy["doc_id"] for copy in result.get("also_in", [])),
                region=result.get("region"),
            )
            for result in body["results"]
        ]
        return Response(results, body["answerable"])

    return search


@dataclass
class ModeResult:
    """One mode's rankings of every question, and whether it judged each answerable."""

    mode: str
    run: Run = field(default_factory=dict)
    answerable: dict[str, bool] = field(default_factory=dict)


def run_mode(queries: Sequence[Query], searcher: Searcher, mode: str) -> ModeResult:
    """Ask every question in ``mode``; scores in the run are ``DEPTH - rank + 1`` so ties keep the service's order."""
    result = ModeResult(mode)
    for query in queries:
        response = searcher(query.text, DEPTH, mode)
        result.run[query.qid] = {r.passage_id: float(DEPTH - r.rank + 1) for r in response.results}
        result.answerable[query.qid] = response.answerable
    return result


def score(qrels: Qrels, run: Run, metrics: Sequence[str] = tuple(METRICS)) -> dict[str, float]:
    """Mean of each metric over the judged questions in ``qrels`` (ranx)."""
    from ranx import Qrels as RanxQrels
    from ranx import Run as RanxRun
    from ranx import evaluate

    judged = {qid: run.get(qid, {}) for qid in qrels}
    if not judged:
        return dict.fromkeys(metrics, float("nan"))
    # ranx wants a score for every judged question; an empty ranking scores 0 on every metric.
    judged = {qid: ranking or {"__nothing__": 0.0} for qid, ranking in judged.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety notes about its own casts
        values = evaluate(RanxQrels(qrels), RanxRun(judged), list(metrics), make_comparable=True)
    if isinstance(values, float):
        values = {metrics[0]: values}
    return {name: float(value) for name, value in values.items()}


def recall_curve(qrels: Qrels, run: Run) -> list[float]:
    """Recall@k for k = 1 … DEPTH."""
    values = score(qrels, run, [f"recall@{k}" for k in range(1, DEPTH + 1)])
    return [values[f"recall@{k}"] for k in range(1, DEPTH + 1)]


@dataclass(frozen=True)
class Flagging:
    """How well ``answerable`` separates the questions the notice answers from those it cannot."""

    unanswerable: int
    unanswerable_flagged: int
    answerable: int
    answerable_flagged: int


def flagging(queries: Sequence[Query], qrels: Qrels, answerable: dict[str, bool]) -> Flagging:
    """Count unanswerable questions flagged (answerable=false), and answerable ones wrongly flagged."""
    cannot = [q.qid for q in queries if q.qid not in qrels]
    can = [q.qid for q in queries if q.qid in qrels]
    return Flagging(
        unanswerable=len(cannot),
        unanswerable_flagged=sum(not answerable[qid] for qid in cannot),
        answerable=len(can),
        answerable_flagged=sum(not answerable[qid] for qid in can),
    )


def write_trec(run: Run, path: str, tag: str) -> None:
    """Write a run in TREC format: ``qid Q0 passage_id rank score tag``."""
    with open(path, "w", encoding="utf-8") as out:
        for qid, ranking in run.items():
            ordered = sorted(ranking.items(), key=lambda item: -item[1])
            for rank, (passage_id, value) in enumerate(ordered, start=1):
                out.write(f"{qid} Q0 {passage_id} {rank} {value:g} {tag}\n")
