"""Retrieval on the real notice: the clause that answers comes first, in every mode that should find it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from corpus.sentences import sentences
from index import DirectoryIndex
from index.clauses import lexical_text
from index.embedders import Embedder
from index.tokenizer import Tokenizer, normalize
from retrieval import RankingConfig, Retriever
from retrieval.fusion import weighted
from retrieval.highlight import HIGHLIGHT_MIN_CHARS
from tests.conftest import open_notices, search


def top_article(index: DirectoryIndex, query: str, mode: str = "hybrid") -> str | None:
    return search(index, query, top_k=1, mode=mode).hits[0].passage.article


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_parallel_car_imports_put_article_14_first(default_index: DirectoryIndex, mode: str) -> None:
    assert top_article(default_index, "钦州港片区能做汽车平行进口吗？", mode) == "14"


def test_by_meaning_alone_article_14_is_first_or_a_close_second(default_index: DirectoryIndex) -> None:
    # The layout paragraph naming 钦州港片区 and its 新能源汽车 industry is as near in meaning.
    hits = search(default_index, "钦州港片区能做汽车平行进口吗？", top_k=2, mode="dense").hits
    assert "14" in [hit.passage.article for hit in hits]
    assert hits[0].score - hits[1].score < 0.01


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_foreign_currency_lease_rent_puts_article_17_first(default_index: DirectoryIndex, mode: str) -> None:
    assert top_article(default_index, "融资租赁公司能收外币租金吗", mode) == "17"


def test_traditional_and_full_width_questions_rank_like_simplified(default_index: DirectoryIndex) -> None:
    simplified = [h.passage.passage_id for h in search(default_index, "钦州港片区能做汽车平行进口吗？").hits]
    traditional = [h.passage.passage_id for h in search(default_index, "欽州港片區能做汽車平行進口嗎?").hits]
    assert traditional == simplified
    assert normalize("ＦＴＺ　１２３") == "ftz 123"


def test_an_english_question_finds_the_work_permit_clause_through_the_dense_leg(default_index: DirectoryIndex) -> None:
    hits = search(default_index, "work permits for foreign talent", top_k=5).hits
    assert "7" in [h.passage.article for h in hits]
    assert all(set(h.scores) == {"dense"} for h in hits)  # no Chinese term to match


def test_an_english_question_s_function_words_do_not_pull_it_to_a_notice_s_english_line(
    tmp_path: Path, embedder: Embedder
) -> None:
    index = open_notices(
        {
            "permits": "外籍人才工作许可办理指南\n一、外籍高端人才可在线申请工作许可，5个工作日内办结。",
            "donations": "海外物资捐赠公告\n一、接受以下物资的捐赠：masks for the doctors and the nurses in the hospital。",
        },
        tmp_path,
        embedder,
    )
    question = "How can a foreign expert get the work permit for the job?"
    assert index.snapshot.tokenizer.tokenize(question) == ["foreign", "expert", "work", "permit", "job"]
    assert search(index, question, mode="bm25").hits == []


def test_hybrid_score_is_the_weighted_sum_of_normalised_leg_scores(default_index: DirectoryIndex) -> None:
    hit = search(default_index, "融资租赁公司能收外币租金吗", top_k=1).hits[0]
    weights = RankingConfig()
    # First in both legs: each contributes its full weight.
    assert hit.scores == pytest.approx({"bm25": weights.bm25_weight, "dense": weights.dense_weight})
    assert hit.score == pytest.approx(1.0)


def test_weighted_fusion_matches_hand_computed_values() -> None:
    mixed = weighted({"a": {"x": 4.0, "y": 1.0}, "b": {"y": 0.9, "z": 0.5}}, {"a": 0.5, "b": 2.0}, floors={"a": 0.0})
    assert mixed == {"x": {"a": 0.5}, "y": {"a": 0.125, "b": 2.0}, "z": {"b": 0.0}}


def test_filters_keep_one_section(default_index: DirectoryIndex) -> None:
    hits = search(default_index, "领导小组会议", top_k=10, section="附件").hits
    assert hits and all(h.passage.section_path[0].startswith("附件") for h in hits)
    assert search(default_index, "汽车平行进口", doc_id="no-such-notice").hits == []


def test_highlight_is_the_sentence_that_answers_and_what_follows_it(default_index: DirectoryIndex) -> None:
    hit = search(default_index, "融资租赁公司能收外币租金吗", top_k=1).hits[0]
    highlight = hit.highlight
    assert Retriever(default_index).highlight(hit.passage, "融资租赁公司能收外币租金吗") == highlight
    assert highlight.startswith("允许广西自贸试验区内符合条件的融资租赁业务收取外币租金。")
    assert highlight in hit.passage.body  # as it stands in the clause, so that a page can mark it
    first_sentence = len("允许广西自贸试验区内符合条件的融资租赁业务收取外币租金。")
    assert len(highlight) >= HIGHLIGHT_MIN_CHARS > first_sentence  # a short sentence goes on into the next


def test_a_highlight_is_one_full_sentence_when_that_says_enough(default_index: DirectoryIndex) -> None:
    articles = [p for p in default_index.snapshot.passages if p.article]
    long_clause = max(articles, key=lambda p: max(map(len, sentences(p.body, at_semicolons=False))))
    longest = max(sentences(long_clause.body, at_semicolons=False), key=len)
    assert len(longest) >= HIGHLIGHT_MIN_CHARS
    assert Retriever(default_index).highlight(long_clause, longest) == longest


def test_responsibility_tails_are_not_indexed(default_index: DirectoryIndex) -> None:
    indexed_terms = default_index.snapshot.bm25.corpus_tokens
    with_units = [i for i, p in enumerate(default_index.snapshot.passages) if p.responsible_units]
    assert len(with_units) >= 45
    for i in with_units:
        assert indexed_terms[i] == default_index.snapshot.tokenizer.tokenize(
            lexical_text(default_index.snapshot.passages[i])
        )
    assert not any("责任" in terms for terms in indexed_terms)


def test_bm25_scores_are_rank_bm25s(default_index: DirectoryIndex) -> None:
    tokenizer: Tokenizer = default_index.snapshot.tokenizer
    reference = BM25Okapi([tokenizer.tokenize(lexical_text(p)) for p in default_index.snapshot.passages])
    query = tokenizer.tokenize("跨境电商零售进口")
    assert np.allclose(default_index.snapshot.bm25.scores(query), reference.get_scores(query))


def test_unknown_mode_and_bad_top_k_name_the_problem(default_index: DirectoryIndex) -> None:
    with pytest.raises(ValueError, match="unknown mode 'fuzzy'; choose one of hybrid, bm25, dense"):
        search(default_index, "外币", mode="fuzzy")
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        search(default_index, "外币", top_k=0)


def test_a_highlight_is_cut_from_the_text_it_is_given_never_from_an_older_text_under_the_same_id(
    default_index: DirectoryIndex,
) -> None:
    """The race a database reader could hit: a clause whose text changed between snapshots, same id."""
    question = "融资租赁公司能收外币租金吗"
    retriever = Retriever(default_index)
    passage = search(default_index, question).hits[0].passage
    before = retriever.highlight(passage, question)  # cached for this clause now
    assert "融资租赁" in before
    amended = "融资租赁公司可按规定以人民币收取租金，外币租金须经外汇局登记后方可收取。其余事项另行规定。"
    newer = dataclasses.replace(passage, text=amended, body=amended)
    after = retriever.highlight(newer, question)
    assert "外币租金须经外汇局登记" in after
    assert after in amended
    assert retriever.highlight(passage, question) == before
