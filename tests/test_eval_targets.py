"""``python -m eval.targets``: every target measured in one run, on a small NCP-shaped folder of the tests' own
notices and questions (the real ones are never copied into the repository)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eval.targets import GOLD_BEFORE, measure, table
from reranker.halves import in_training_half
from service.settings import Settings

NOTICES = {
    # The two halves: notice-1's MD5 begins with 3, notice-2's with b.
    "notice-1": "关于减免小微企业房租的通知\n一、对承租国有房屋的小微企业，免收2020年2月和3月两个月房租。\n"
    "二、减免房租的企业名单由区财政局审核后公布。\n",
    "notice-2": "关于做好复工复产用电保障的通知\n一、疫情期间中小企业电费按九五折结算。\n"
    "二、供电企业对防疫物资生产企业开通用电绿色通道，二十四小时内完成接电。\n",
}
DEV = [  # qid, question, docid, answer
    ("d1", "承租国有房屋的小微企业能免收几个月房租？", "notice-1", "免收2020年2月和3月两个月房租"),
    ("d2", "减免房租的企业名单由谁审核？", "notice-1", "区财政局审核"),
    ("d3", "疫情期间中小企业电费怎么结算？", "notice-2", "电费按九五折结算"),
]
TEAM = [("t1", "防疫物资生产企业接电要多久？", "notice-2", "二十四小时内完成接电")]
OFF_TOPIC = [("o1", "红烧肉怎么做才不腻？"), ("o2", "明天天气怎么样")]
FLAGGED = re.compile(r"\d+ of (?P<off_topic>\d+) \([\d.]+%\) at \d+ of (?P<answerable>\d+) \([\d.]+%\)")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """An ncppolicies-shaped folder: notices/<docid>.txt and questions-dev.tsv."""
    root = tmp_path / "ncp"
    (root / "notices").mkdir(parents=True)
    for doc_id, text in NOTICES.items():
        (root / "notices" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    rows = ["qid\tquestion\tdocid\tanswer", *("\t".join(row) for row in DEV)]
    (root / "questions-dev.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A team sample: questions with their answers' characters in the notice, and off-topic questions."""
    root = tmp_path / "team"
    root.mkdir()
    lines = []
    for qid, question, doc_id, answer in TEAM:
        start = NOTICES[doc_id].index(answer)
        row = {"qid": qid, "question": question, "doc_id": doc_id, "answer_chars": [start, start + len(answer)]}
        lines.append(json.dumps(row, ensure_ascii=False))
    (root / "questions-other-half.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    off_topic = [json.dumps({"qid": qid, "question": question}, ensure_ascii=False) for qid, question in OFF_TOPIC]
    (root / "off-topic.jsonl").write_text("\n".join(off_topic) + "\n", encoding="utf-8")
    return root


def test_every_target_is_measured_from_the_folder_in_one_run(
    source: Path, team: Path, tmp_path: Path, default_index_dir: Path
) -> None:
    assert {in_training_half(doc_id) for doc_id in NOTICES} == {True, False}
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(
        default_index_dir, work / "index-default", symlinks=True
    )  # the default notice's index, loaded as it is
    targets = measure(source, work, Settings(), team_samples=[team])

    rows = {target.aim: target for target in targets}
    assert len(rows) == len(targets) == 7
    # Each question names its clause's own words: the two notices answer all of them first.
    assert rows["NCP dev answer Hit@1 ≥ 0.70 (18)"].now == "1.000" and rows["NCP dev answer Hit@1 ≥ 0.70 (18)"].met
    assert rows["NCP dev answer Hit@1 ≥ 0.65 on the other half (18)"].now == "1.000"
    assert rows["NCP dev notice Hit@1 ≥ 0.88 (18, 19)"].now == "1.000"
    assert rows["a top clause of another place ≤ 5% of questions that name one (19)"].now == "0 of 0"
    sample = FLAGGED.fullmatch(rows["off-topic ≥ 90% flagged at ≤ 5% of answerable, team sample 1 (18)"].now)
    assert sample is not None and (sample["off_topic"], sample["answerable"]) == (str(len(OFF_TOPIC)), str(len(TEAM)))
    # Asked of the default notice: the three dev questions and the gold set's 10 held-out unanswerable ones, beside
    # its 76 answerable ones.
    across = FLAGGED.fullmatch(rows["the same across corpora: NCP questions asked of the default notice (18)"].now)
    assert across is not None and (across["off_topic"], across["answerable"]) == ("13", "76")
    gold = rows["gold held-out Hit@1 / Recall@5 / MRR@10 not worse than 0.855 / 0.934 / 0.894 (18)"]
    assert gold.met == all(
        float(now) >= before for now, before in zip(gold.now.split(" / "), GOLD_BEFORE.values(), strict=True)
    )
    # The datasets were written in the work folder, beside the indexes.
    assert {path.name for path in work.iterdir()} == {"ncp-dev", "team-1", "across", "index-ncp", "index-default"}
    lines = table(targets)
    assert lines[:2] == ["| target (issue) | now | met |", "|---|---|---|"] and len(lines) == 9


def test_the_work_folder_must_lie_outside_the_repository(source: Path) -> None:
    inside = Path(__file__).resolve().parent.parent / "targets-work"
    run = subprocess.run(
        [sys.executable, "-m", "eval.targets", str(source), str(inside)], capture_output=True, text=True, check=False
    )
    assert run.returncode != 0 and "outside the repository" in run.stderr
    assert not inside.exists()
