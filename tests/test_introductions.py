"""A news report's lead that carries its headline, and a paragraph that announces what follows, are placed below
the notice's clause that answers nearly as well, and the notice keeps its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.loader import load_notice
from index.directory import DirectoryIndex
from index.embedders import Embedder
from retrieval import Retriever
from retrieval.config import RankingConfig
from retrieval.introductions import announces_what_follows, carries_headline
from retrieval.results import Hit, RetrievalRequest
from tests.conftest import open_notices

# A report scraped into one line, its headline run into its lead; a notice with its title on a line of its own,
# whose covering paragraph announces its measures; and another report, so that the notices' BM25 tells them apart.
NOTICES = {
    "report": "甲市开通春耕农机线上服务站 眼下，甲市即将进入繁忙的春耕备耕阶段。日前，甲市农业农村局开通春耕农机线上服务站，"
    "推行不见面技术服务。 据介绍，春耕农机线上服务站具有四方面功能：一是组织网上调度，协调农机供求；"
    "二是在线推送农机维修保养知识；三是开展线上培训；四是发布农机作业信息。",
    "notice": "甲市农业农村局关于做好春耕农机服务的通知\n\n各县农业农村局：\n\n"
    "为做好疫情防控期间春耕农机服务，保障春耕农机作业，现将有关事项通知如下：\n\n"
    "一、做好农机检修。各地要组织农机检修。\n\n二、保障农机作业。各地要为春耕农机作业开通绿色通道，保障农机作业。\n",
    "other": "乙县发放春耕补贴 近日，乙县向种粮农户发放春耕补贴，每亩补贴50元。",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> DirectoryIndex:
    return open_notices(NOTICES, tmp_path_factory.mktemp("notices"), embedder)


def test_which_clauses_introduce_rather_than_state(tmp_path: Path) -> None:
    found = {}
    for doc_id, text in NOTICES.items():
        (path := tmp_path / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        passages = load_notice(path, doc_id).passages
        found[doc_id] = [(carries_headline(p), announces_what_follows(p)) for p in passages]
    assert found == {
        "report": [(True, False), (False, False)],
        "notice": [(False, True), (False, False), (False, False)],
        "other": [(True, False)],
    }


def ranked(index: DirectoryIndex, question: str, **shares: float) -> tuple[list[tuple[str, str]], list[Hit]]:
    retriever = Retriever(index, RankingConfig(**shares))
    hits = retriever.search(RetrievalRequest(question, 3, "hybrid")).hits
    return [(hit.passage.doc_id, hit.passage.body[:6]) for hit in hits], hits


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "introduction", "answer", "off"),
    [
        ("甲市开通的春耕农机线上服务站有哪些功能？", "甲市开通春耕", "据介绍，春耕", {"lead_share": 1}),
        ("疫情期间甲市春耕农机作业有什么保障？", "各县农业农村", "二、保障农机", {"announcement_share": 1}),
    ],
)
def test_the_introduction_goes_below_the_clause_that_answers_and_the_notice_stays_first(
    index: DirectoryIndex, question: str, introduction: str, answer: str, off: dict[str, float]
) -> None:
    as_scored, _ = ranked(index, question, **off)
    doc_id = as_scored[0][0]
    assert as_scored[:2] == [(doc_id, introduction), (doc_id, answer)]
    placed, hits = ranked(index, question)
    assert placed[:2] == [(doc_id, answer), (doc_id, introduction)]
    assert hits[0].scores["intro"] > 0 > hits[1].scores["intro"]
    assert abs(hits[0].score - sum(hits[0].scores.values())) < 1e-9
    assert placed[2:] == as_scored[2:]  # other notices keep their places
