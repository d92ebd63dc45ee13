"""Scale: BM25 through a sparse term matrix scores exactly as rank-bm25 did; large vector sets use HNSW."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from eval.dataset import load_queries
from index.bm25 import BM25Index
from index.dense import HNSW_EF_SEARCH, DenseIndex
from index.sentence_vectors import SentenceVectors
from index.tokenizer import Tokenizer, corpus_words

# Repeated terms, terms no passage has, English, stop words only, nothing at all.
EDGE_QUERIES = [
    "跨境电商跨境电商零售进口",
    "钦州港片区 钦州港片区 钦州港片区 汽车平行进口",
    "企业 企业 企业 企业",
    "个人所得税专项附加扣除",
    "区块链 元宇宙 量子计算",
    "work permits for foreign talent",
    "的了吗",
    "",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(corpus_words(load_corpus(DEFAULT_CORPUS_DIR).passages))


@pytest.fixture(scope="module")
def corpus_tokens(tokenizer: Tokenizer) -> list[list[str]]:
    return [tokenizer.tokenize(passage.body) for passage in load_corpus(DEFAULT_CORPUS_DIR).passages]


def unit_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact_order(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    return np.argsort(-(vectors @ query), kind="stable")


def test_bm25_scores_match_rank_bm25_on_the_real_notice(tokenizer: Tokenizer, corpus_tokens: list[list[str]]) -> None:
    reference = BM25Okapi(corpus_tokens)
    index = BM25Index(corpus_tokens)
    questions = [query.text for query in load_queries("tuning")[:40]] + EDGE_QUERIES
    queries = [tokenizer.tokenize(question) for question in questions]
    assert any(len(set(terms)) < len(terms) for terms in queries)  # repeated terms are covered
    assert any(term not in reference.idf for terms in queries for term in terms)  # and unknown ones
    for question, terms in zip(questions, queries, strict=True):
        assert np.allclose(index.scores(terms), reference.get_scores(terms)), question


def test_a_repeated_query_term_counts_once_per_occurrence(corpus_tokens: list[list[str]]) -> None:
    index = BM25Index(corpus_tokens)
    once, twice = index.scores(["跨境"]), index.scores(["跨境", "跨境"])
    assert once.max() > 0
    assert np.allclose(twice, 2 * once)


def test_idf_and_term_weight_are_rank_bm25s(corpus_tokens: list[list[str]]) -> None:
    reference = BM25Okapi(corpus_tokens)
    index = BM25Index(corpus_tokens)
    assert all(index.idf(term) == pytest.approx(idf) for term, idf in reference.idf.items())
    assert index.idf("个人所得税") == 0.0
    assert index.term_weight("个人所得税") == pytest.approx(max(reference.idf.values()))
    assert index.term_set(0) == frozenset(corpus_tokens[0])


def test_a_term_in_most_passages_gets_the_epsilon_floor_of_rank_bm25() -> None:
    tokens = [["自贸", "跨境"], ["自贸", "金融"], ["自贸", "物流", "物流"], ["跨境"]]
    reference = BM25Okapi(tokens)
    index = BM25Index(tokens)
    assert np.log(4 - 3 + 0.5) - np.log(3 + 0.5) < 0  # 自贸 is in 3 passages of 4: a negative raw idf
    assert index.idf("自贸") == pytest.approx(reference.idf["自贸"]) and index.idf("自贸") != 0
    for query in (["自贸"], ["自贸", "物流"], ["跨境", "跨境", "金融"]):
        assert np.allclose(index.scores(query), reference.get_scores(query))


def test_empty_corpus_and_empty_query_score_zero(corpus_tokens: list[list[str]]) -> None:
    assert BM25Index([]).scores(["跨境"]).shape == (0,)
    assert np.array_equal(BM25Index([[], []]).scores(["跨境"]), np.zeros(2))
    assert np.array_equal(BM25Index(corpus_tokens).scores([]), np.zeros(len(corpus_tokens)))
    assert BM25Index([]).term_weight("跨境") == 0.0


def test_bm25_is_saved_as_its_term_lists(tmp_path: Path, corpus_tokens: list[list[str]]) -> None:
    path = tmp_path / "bm25_tokens.json"
    BM25Index(corpus_tokens).save(path)
    loaded = BM25Index.load(path)
    assert loaded.corpus_tokens == corpus_tokens
    assert np.array_equal(loaded.scores(["跨境", "电商"]), BM25Index(corpus_tokens).scores(["跨境", "电商"]))


def test_a_small_set_is_searched_exactly() -> None:
    vectors = unit_vectors(300, 16)
    dense = DenseIndex.from_vectors(vectors)
    positions, similarities = dense.search(vectors[7], 10)
    assert positions.tolist() == exact_order(vectors, vectors[7])[:10].tolist()
    assert np.allclose(similarities, vectors[positions] @ vectors[7])


def test_hnsw_above_the_threshold_finds_the_exact_neighbours_and_survives_a_reload(tmp_path: Path) -> None:
    vectors, queries = unit_vectors(2000, 16), unit_vectors(20, 16, seed=1)
    dense = DenseIndex.from_vectors(vectors, threshold=1000)
    assert (len(dense), dense.dim) == (2000, 16)
    found = [len(set(dense.search(q, 10)[0]) & set(exact_order(vectors, q)[:10])) / 10 for q in queries]
    assert np.mean(found) >= 0.95

    path = tmp_path / "dense.faiss"
    dense.save(path)
    stored = faiss.read_index(str(path))
    assert isinstance(stored, faiss.IndexHNSW) and stored.hnsw.efSearch == HNSW_EF_SEARCH
    loaded = DenseIndex.load(path)
    for query in queries:
        assert np.array_equal(loaded.search(query, 10)[0], dense.search(query, 10)[0])


def test_hnsw_widens_its_walk_to_a_deeper_search() -> None:
    vectors, queries = unit_vectors(20_000, 16), unit_vectors(10, 16, seed=1)
    dense = DenseIndex.from_vectors(vectors, threshold=1000)
    depth = 2 * HNSW_EF_SEARCH  # deeper than the default walk, still a small share of 20,000
    found = []
    for query in queries:
        positions, _ = dense.search(query, depth)
        assert len(set(positions.tolist())) == depth
        found.append(len(set(positions) & set(exact_order(vectors, query)[:depth])) / depth)
    assert np.mean(found) >= 0.99  # a walk kept at the default width finds about 0.98


def test_hnsw_ranking_every_vector_is_exact() -> None:
    vectors = unit_vectors(2000, 16)
    dense = DenseIndex.from_vectors(vectors, threshold=1000)
    positions, similarities = dense.search(vectors[3], len(vectors))
    assert sorted(positions.tolist()) == list(range(len(vectors)))
    assert np.allclose(similarities, np.sort(vectors @ vectors[3])[::-1], atol=1e-6)


@pytest.mark.parametrize("threshold", [10_000, 1000], ids=["flat", "hnsw"])
def test_a_filtered_search_returns_only_allowed_passages_nearest_first(threshold: int) -> None:
    vectors, query = unit_vectors(4000, 16), unit_vectors(1, 16, seed=1)[0]
    dense = DenseIndex.from_vectors(vectors, threshold=threshold)
    one_notice = np.zeros(len(vectors), dtype=bool)
    one_notice[1200:1277] = True  # few passages: ranked exactly on either index
    most = np.random.default_rng(2).random(len(vectors)) < 0.6  # many: the graph walks past the others
    for allowed, wanted in ((one_notice, 1.0), (most, 0.9)):
        positions, similarities = dense.search(query, 50, allowed)
        assert allowed[positions].all() and len(positions) == 50
        assert np.allclose(similarities, vectors[positions] @ query) and np.all(np.diff(similarities) <= 0)
        exact = [i for i in exact_order(vectors, query) if allowed[i]][:50]
        assert len(set(positions.tolist()) & set(exact)) / 50 >= wanted
    assert len(dense.search(query, 50, np.zeros(len(vectors), dtype=bool))[0]) == 0


def test_sentence_vectors_give_each_passages_best_sentence(tmp_path: Path) -> None:
    vectors, query = unit_vectors(9, 16), unit_vectors(1, 16, seed=1)[0]
    owner = np.array([0, 0, 0, 2, 3, 3, 3, 3, 5])  # passages 1 and 4 have no sentences
    sentences = SentenceVectors(vectors, owner, passages=6)
    similarities = vectors @ query
    best = sentences.best(query, np.array([3, 1, 0, 5, 4, 2]))
    expected = [similarities[4:8].max(), np.nan, similarities[:3].max(), similarities[8], np.nan, similarities[3]]
    assert np.allclose(best, expected, equal_nan=True)
    assert len(sentences.best(query, np.array([], dtype=np.int64))) == 0

    sentences.save(tmp_path)
    loaded = SentenceVectors.load(tmp_path, passages=6)
    assert np.array_equal(loaded.best(query, np.arange(6)), sentences.best(query, np.arange(6)), equal_nan=True)


def test_sentence_vectors_must_be_grouped_by_passage() -> None:
    with pytest.raises(ValueError, match="grouped by passage"):
        SentenceVectors(unit_vectors(3, 16), np.array([1, 0, 2]), passages=3)
    with pytest.raises(ValueError, match="3 sentence vectors but 2 owners"):
        SentenceVectors(unit_vectors(3, 16), np.array([0, 1]), passages=3)
