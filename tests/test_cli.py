"""The ``policyqa`` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from service.cli import UNANSWERABLE_NOTE
from tests.commands import POLICYQA


def policyqa(*args: str, index_dir: Path, corpus: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(index_dir)}
    if corpus is not None:
        env["POLICYQA_CORPUS_DIR"] = str(corpus)
    return subprocess.run([*POLICYQA, *args], env=env, capture_output=True, text=True, timeout=300)


def test_search_json_returns_article_17_with_its_citation(default_index_dir: Path) -> None:
    result = policyqa("search", "融资租赁公司能收外币租金吗", "--json", index_dir=default_index_dir)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["query"] == "融资租赁公司能收外币租金吗"
    assert response["mode"] == "hybrid"
    first = response["results"][0]
    assert first["article"] == "17"
    assert (
        first["citation"]
        == "《中国(广西)自由贸易试验区建设实施方案》（广西壮族自治区人民政府）三、主要任务(三) 第17条 扩大金融业对内对外开放"
    )
    assert first["passage_id"] == "guangxi-ftz-implementation-plan-2020:3.3.17"
    assert first["section_path"] == ["三、主要任务", "(三)打造面向东盟的金融开放门户核心区"]
    expected_keys = {"rank", "passage_id", "doc_id", "article", "title", "section_path", "citation", "text", "score"}
    assert expected_keys <= set(first)
    assert [r["rank"] for r in response["results"]] == [1, 2, 3, 4, 5]


def test_search_prints_ranked_citations(default_index_dir: Path) -> None:
    result = policyqa(
        "search", "钦州港片区能做汽车平行进口吗？", "--top-k", "2", "--mode", "bm25", index_dir=default_index_dir
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "1. 《中国(广西)自由贸易试验区建设实施方案》（广西壮族自治区人民政府）三、主要任务(二) 第14条 培育国际贸易新业态新模式"
    )
    assert lines[1] == "   广西壮族自治区 · 2020-01-22 · 通知"  # where the notice applies, when, what it is
    assert "汽车平行进口" in lines[2]
    assert lines[3].startswith("2. ")


def test_search_warns_when_the_notices_may_not_answer(default_index_dir: Path) -> None:
    off_topic = policyqa("search", "北京小客车指标摇号怎么报名？", "--top-k", "2", index_dir=default_index_dir)
    assert off_topic.returncode == 0, off_topic.stderr
    assert off_topic.stdout.splitlines()[0] == UNANSWERABLE_NOTE
    assert off_topic.stdout.splitlines()[1].startswith("1. ")
    answered = policyqa("search", "融资租赁公司能收外币租金吗", "--top-k", "2", index_dir=default_index_dir)
    assert UNANSWERABLE_NOTE not in answered.stdout
    assert answered.stdout.startswith("1. ")


@pytest.mark.slow
def test_index_reports_what_it_did(tmp_path: Path, corpus_copy: Path) -> None:
    built = policyqa("index", index_dir=tmp_path / "index", corpus=corpus_copy)
    assert built.returncode == 0, built.stderr
    assert "built index: 1 notice(s)" in built.stderr
    again = policyqa("index", "--corpus", str(corpus_copy), index_dir=tmp_path / "index")
    assert again.returncode == 0
    assert "index is up to date" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "   "), "query is empty"),
        (("search", "外币", "--top-k", "0"), "top_k"),
        (("index", "--corpus", "/nonexistent/notices"), "/nonexistent/notices: corpus directory does not exist"),
    ],
)
def test_bad_arguments_get_a_clear_error(default_index_dir: Path, args: tuple[str, ...], message: str) -> None:
    result = policyqa(*args, index_dir=default_index_dir)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_bad_file_is_named_and_left_out_or_with_strict_fails_the_run(tmp_path: Path, corpus_copy: Path) -> None:
    (corpus_copy / "scan.txt").write_bytes(bytes(range(256)))
    strict = policyqa("index", "--strict", index_dir=tmp_path / "index", corpus=corpus_copy)
    assert strict.returncode == 1
    assert f"{corpus_copy / 'scan.txt'}: is a binary file" in strict.stderr
    result = policyqa("index", index_dir=tmp_path / "index", corpus=corpus_copy)
    assert result.returncode == 2  # done, with rejects
    assert f"not indexed: {corpus_copy / 'scan.txt'}: is a binary file" in result.stderr
    assert "built index (1 file(s) left out): 1 notice(s)" in result.stderr
