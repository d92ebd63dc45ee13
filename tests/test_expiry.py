"""A notice past the end of validity it states ranks below one in force, or is hidden, unless the question asks
about its time; results say it has expired."""

from __future__ import annotations

import datetime

import pytest

from corpus.models import Identity
from index.contract import Filters
from index.directory import DirectoryIndex
from index.embedders import Embedder
from retrieval import Retriever
from retrieval.config import RankingConfig
from retrieval.expiry import Expiry
from retrieval.results import RetrievalRequest
from tests.conftest import open_notices

# The same measure, once with an end that has passed and once in force.
NOTICES = {
    "rent-2020": "某市关于减免中小企业房租的通知\n\n"
    "一、减免房租。对承租国有资产类经营用房的中小企业，免收三个月房租。\n\n"
    "二、本通知自2020年2月10日起施行，有效期至2020年6月30日。\n",
    "rent-now": "某市关于继续减免中小企业房租的通知\n\n"
    "一、减免房租。对承租国有资产类经营用房的中小企业，继续免收三个月房租。\n\n"
    "二、本通知自2026年1月1日起施行，有效期至2099年12月31日。\n",
}
QUESTION = "租国有房子的中小企业能免房租吗？"


def test_a_notice_has_expired_once_its_end_has_passed_unless_the_question_names_a_year_it_held() -> None:
    today = datetime.date(2026, 12, 3)
    ended = Identity(valid_until="2020-06-30")
    assert Expiry(QUESTION, today).expired(ended)
    assert not Expiry("2020年租国有房子的中小企业能免房租吗？", today).expired(ended)
    assert Expiry("2021年租国有房子能免房租吗？", today).expired(ended)
    assert not Expiry(QUESTION, today).expired(Identity(valid_until="2099-12-31"))
    assert not Expiry(QUESTION, today).expired(Identity())


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> DirectoryIndex:
    return open_notices(NOTICES, tmp_path_factory.mktemp("notices"), embedder)


def notices(index: DirectoryIndex, question: str, **config: str) -> list[str]:
    hits = Retriever(index, RankingConfig(**config)).search(RetrievalRequest(question, 4, "hybrid", Filters())).hits
    return list(dict.fromkeys(hit.passage.doc_id for hit in hits))


@pytest.mark.slow
def test_an_expired_notice_ranks_below_one_in_force_or_is_hidden(index: DirectoryIndex) -> None:
    valid = {document.doc_id: document.identity.valid_until for document, _ in index.document_counts()}
    assert valid == {"rent-2020": "2020-06-30", "rent-now": "2099-12-31"}
    assert notices(index, QUESTION) == ["rent-now", "rent-2020"]
    assert notices(index, QUESTION, expired="hide") == ["rent-now"]
    # Asked about 2020, the 2020 notice is not out of date; its own words match best.
    assert notices(index, "2020年租国有房子的中小企业能免三个月房租吗？", expired="hide")[0] == "rent-2020"
