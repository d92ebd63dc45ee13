"""Copies of a clause (a notice republished under another name) are one result, which names where else it stands."""

from __future__ import annotations

import random
import shutil
from difflib import SequenceMatcher
from pathlib import Path

import httpx
import pytest

from index.embedders import Embedder
from retrieval.copies import NEAR_COPY_SIMILARITY, copy_key, near_copies
from service.settings import Settings
from tests.conftest import FIXTURES, LiveServer, open_local, search

pytestmark = pytest.mark.slow

EXPORT_QUERY = "出口退税平均多久能办完"
ORIGINAL, COPY = "export-tax-rebate-service", "export-tax-rebate-service-republished"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three notices, one of them a word-for-word copy of another under its own name."""
    corpus = tmp_path_factory.mktemp("corpus")
    for notice in FIXTURES.iterdir():
        shutil.copy(notice, corpus)
    shutil.copy(FIXTURES / f"{ORIGINAL}.txt", corpus / f"{COPY}.txt")
    return corpus


def test_a_copy_is_folded_into_the_best_ranked_clause_of_its_text(
    library: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index, _ = open_local(library, tmp_path / "index", embedder)
    hits = search(index, EXPORT_QUERY, top_k=5).hits
    keys = [key for hit in hits if (key := copy_key(hit.passage)) is not None]
    assert len(hits) == 5 and len(set(keys)) == len(keys)  # each text once, and still five results
    twin = {ORIGINAL: [COPY], COPY: [ORIGINAL]}
    for hit in hits:  # a clause names its twin where the twin ranked above the last result; the others none
        assert [copy.doc_id for copy in hit.copies] in ([], twin.get(hit.passage.doc_id)), hit.passage.passage_id
    top = hits[0]
    assert top.passage.doc_id in (ORIGINAL, COPY) and "5个工作日" in top.passage.text
    (copy,) = top.copies
    assert {top.passage.doc_id, copy.doc_id} == {ORIGINAL, COPY}
    assert copy_key(copy) == copy_key(top.passage)
    assert [hit.rank for hit in hits] == [1, 2, 3, 4, 5]

    live = LiveServer(Settings(corpus_dir=library, index_dir=tmp_path / "index", rate_limit=None)).start()
    try:
        results = httpx.post(f"{live.url}/v1/search", json={"query": EXPORT_QUERY}).json()["results"]
    finally:
        live.stop()
    assert results[0]["passage_id"] == top.passage.passage_id
    assert results[0]["also_in"] == [{"passage_id": copy.passage_id, "doc_id": copy.doc_id, "citation": copy.citation}]


def test_a_lightly_edited_copy_is_folded_too(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    original = (FIXTURES / f"{ORIGINAL}.txt").read_text(encoding="utf-8")
    shutil.copy(FIXTURES / f"{ORIGINAL}.txt", corpus)
    edited = original.replace("正常出口退税的平均办理时间", "正常出口退税平均办理时间").replace("，其中", "；其中")
    assert edited != original
    (corpus / "export-tax-rebate-edited.txt").write_text(edited, encoding="utf-8")
    index, _ = open_local(corpus, tmp_path / "index", embedder)
    top = search(index, EXPORT_QUERY, top_k=5).hits[0]
    assert "5个工作日" in top.passage.text
    assert [copy.doc_id for copy in top.copies] == [
        ({ORIGINAL, "export-tax-rebate-edited"} - {top.passage.doc_id}).pop()
    ]
    assert near_copies(copy_key(top.passage) or "", copy_key(top.copies[0]) or "")
    assert not near_copies(
        "对符合条件的出口企业，正常出口退税的平均办理时间压缩至5个工作日以内。",
        "企业可通过电子税务局申报出口退税，无需报送纸质资料。",
    )


@pytest.mark.parametrize("seed", range(3))
def test_near_copies_agrees_with_difflib_on_edited_clauses(seed: int) -> None:
    """The cheap checks before the matcher only ever spare it a pair it would reject: over clauses edited by a few
    characters (some the other text never holds), the answer is difflib's ratio against the threshold."""
    rng = random.Random(seed)
    alphabet = "企业出口退税办理时间工作日以内申报资料电子税务局纳税人可通过符合条件的正常平均压缩至无需报送纸质"
    for _ in range(300):
        first = "".join(rng.choice(alphabet) for _ in range(rng.randint(30, 120)))
        second = list(first)
        for _ in range(rng.randint(0, 12)):
            at = rng.randrange(len(second))
            edit = rng.choice(("replace", "insert", "delete", "foreign"))
            if edit == "replace":
                second[at] = rng.choice(alphabet)
            elif edit == "insert":
                second.insert(at, rng.choice(alphabet))
            elif edit == "delete" and len(second) > 1:
                del second[at]
            else:  # a character the first text lacks altogether
                second[at] = rng.choice("甲乙丙丁戊己庚辛")
        edited = "".join(second)
        ratio = SequenceMatcher(None, first, edited, autojunk=False).ratio()
        assert near_copies(first, edited) == (ratio >= NEAR_COPY_SIMILARITY), (first, edited, ratio)
