"""The gold set's integrity, the metrics, and `policyqa eval` against the library and a live server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from eval.dataset import GOLD_DIR, SPLITS, corpus_rows, load_qrels, load_queries
from eval.harness import DEPTH, flagging, http_searcher, library_searcher, run_mode, score, write_trec
from index import DirectoryIndex
from retrieval import Retriever
from tests.commands import POLICYQA
from tests.conftest import LiveServer


def test_corpus_jsonl_is_what_the_parser_gives() -> None:
    rows = [json.loads(line) for line in (GOLD_DIR / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == corpus_rows(load_corpus(DEFAULT_CORPUS_DIR).passages)


def test_gold_set_is_consistent_and_its_splits_disjoint() -> None:
    passage_ids = {p.passage_id for p in load_corpus(DEFAULT_CORPUS_DIR).passages}
    by_split = {split: load_queries(split) for split in SPLITS}
    tuning_ids, heldout_ids = ({q.qid for q in qs} for qs in by_split.values())
    assert not tuning_ids & heldout_ids
    assert len(tuning_ids | heldout_ids) >= 150
    for split, queries in by_split.items():
        qrels = load_qrels(split)
        assert set(qrels) <= {q.qid for q in queries}
        for judged in qrels.values():
            assert set(judged) <= passage_ids
            assert 2 in judged.values()  # some clause answers fully
        types = {q.type for q in queries}
        assert {"paraphrase", "colloquial", "keyword", "traditional", "english", "multi", "unanswerable"} <= types
        assert all(q.qid not in qrels for q in queries if q.type == "unanswerable")
    with pytest.raises(ValueError, match="unknown split 'test'; choose one of tuning, heldout"):
        load_queries("test")


def test_metrics_match_hand_computed_values() -> None:
    qrels = {"q1": {"a": 2, "b": 1}, "q2": {"c": 2}}
    run = {"q1": {"b": 3.0, "a": 2.0}, "q2": {"x": 3.0, "y": 2.0, "c": 1.0}}
    values = score(qrels, run)
    assert values["hit_rate@1"] == pytest.approx(0.5)
    assert values["recall@5"] == pytest.approx(1.0)
    assert values["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert score(qrels, {"q1": {}, "q2": {}})["recall@10"] == 0.0


def test_library_and_server_give_the_same_rankings(default_index: DirectoryIndex, server: LiveServer) -> None:
    queries = load_queries("tuning")[:12]
    local = run_mode(queries, library_searcher(Retriever(default_index)), "hybrid")
    remote = run_mode(queries, http_searcher(server.url), "hybrid")
    assert remote.run == local.run
    assert remote.answerable == local.answerable
    assert all(len(ranking) == DEPTH for ranking in local.run.values())


def test_flagging_counts_both_ways(default_index: DirectoryIndex) -> None:
    queries = load_queries("tuning")
    qrels = load_qrels("tuning")
    result = run_mode(queries, library_searcher(Retriever(default_index)), "bm25")
    counts = flagging(queries, qrels, result.answerable)
    assert counts.unanswerable == sum(q.type == "unanswerable" for q in queries)
    assert counts.answerable == len(qrels)
    assert 0 <= counts.unanswerable_flagged <= counts.unanswerable


def test_trec_run_file(tmp_path: Path) -> None:
    write_trec({"q1": {"b": 1.0, "a": 2.0}}, str(tmp_path / "run.trec"), "tag")
    assert (tmp_path / "run.trec").read_text().splitlines() == ["q1 Q0 a 1 2 tag", "q1 Q0 b 2 1 tag"]


@pytest.mark.slow
def test_policyqa_eval_writes_report_chart_and_runs(default_index_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(default_index_dir)}
    command = [*POLICYQA, "eval", "--split", "tuning", "--modes", "bm25,hybrid", "--out", str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "| mode | Hit@1 | Recall@5 | Recall@10 | MRR@10 | nDCG@10 |" in result.stdout
    assert "hybrid: flagged" in result.stdout
    report = (tmp_path / "report.md").read_text()
    assert "## tuning" in report and "### By question type" in report and "english" in report
    assert (tmp_path / "recall.png").read_bytes().startswith(b"\x89PNG")
    trec = (tmp_path / "tuning-hybrid.trec").read_text().splitlines()
    assert len(trec) == DEPTH * len(load_queries("tuning"))
