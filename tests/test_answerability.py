"""Answerability: the legs' evidence, and a Chinese question's dense evidence standing above what chit-chat
reaches in the library (retrieval/chit_chat.py), over the real default notice and a library grown from it."""

from __future__ import annotations

from pathlib import Path

from corpus import load_notice
from index import DirectoryIndex, IndexConfig, open_index
from index.embedders import Embedder
from retrieval import RankingConfig, Retriever
from retrieval.answerability import Evidence, Thresholds, is_answerable
from retrieval.chit_chat import chit_chat_questions
from retrieval.results import RetrievalRequest
from service.settings import Settings

ANSWERED = "钦州港片区能做汽车平行进口吗？"

# A notice of the team's own that answers everyday questions like the chit-chat ones: a library holding it
# comes closer to chit-chat, so its level must rise.
EVERYDAY_NOTICE = """关于居民日常生活小常识的宣传材料

一、挑选西瓜时，用手拍一拍，声音清脆的西瓜更甜，瓜蒂新鲜、纹路清晰的西瓜更成熟。
二、煮米饭前把米浸泡半小时，水和米的比例约为一点二比一，米饭会更香。
三、感冒时多喝水、多休息，发热超过三天应及时就医，不要自行服用抗生素。
四、绿萝喜欢散射光，夏季每三到五天浇一次水，冬季每周浇一次水。
五、衣服上的油渍可先用洗洁精揉搓，再用温水清洗；白衬衫发黄可用小苏打浸泡。
六、冰箱有异味时，可放入柚子皮、茶叶渣或活性炭吸附异味。
七、游泳换气时头部侧转，口鼻露出水面后用嘴吸气，入水后用鼻子呼气。
八、多肉植物耐旱，春秋两季每七到十天浇一次水，浇水要见干见湿。
"""


def test_a_chinese_question_below_chit_chat_is_answerable_only_if_one_clause_holds_its_terms() -> None:
    evidence = Evidence(dense_top=2.30, term_coverage=0.5, chinese=True, chit_chat_level=2.28)
    assert not is_answerable(evidence, Thresholds())  # 2.30 is not 0.08 - 0.08 * 0.5 = 0.04 above 2.28
    assert is_answerable(evidence._replace(term_coverage=0.8), Thresholds())  # a keyword question, all its terms
    assert is_answerable(evidence._replace(dense_top=2.33), Thresholds())
    assert is_answerable(evidence, Thresholds(above_chit_chat=None))
    assert is_answerable(evidence._replace(chinese=False), Thresholds())  # the chit-chat is Chinese
    assert is_answerable(evidence._replace(rerank_top=0.9), Thresholds(min_rerank=0.5))  # a reranker decides alone


def test_the_more_of_its_terms_the_best_clause_holds_the_less_a_question_must_stand_above_chit_chat() -> None:
    thresholds = Thresholds(above_chit_chat=0.08, coverage_credit=0.08)
    few_words = Evidence(dense_top=2.35, term_coverage=0.1, chinese=True, chit_chat_level=2.28)  # 0.07 above
    assert not is_answerable(few_words, thresholds)  # 0.08 - 0.008 asked
    assert is_answerable(few_words._replace(term_coverage=0.6), thresholds)  # 0.08 - 0.048 asked
    assert not is_answerable(few_words._replace(term_coverage=None), thresholds)  # unknown: no credit
    assert not is_answerable(few_words._replace(term_coverage=0.6), thresholds._replace(coverage_credit=0))
    assert Settings(answerable_coverage_credit=0.02).ranking_config().thresholds.coverage_credit == 0.02


def test_a_question_without_a_word_is_never_answerable_though_its_closest_clauses_are_shown(
    default_index: DirectoryIndex,
) -> None:
    retriever = Retriever(default_index)
    for wordless in ("？？？", "。", "123", "!!! ..."):
        retrieval = retriever.search(RetrievalRequest(wordless, top_k=3))
        assert not retrieval.answerable and len(retrieval.hits) == 3, wordless
    for worded in ("AEO", ANSWERED):  # an acronym the notice holds is a word
        assert retriever.search(RetrievalRequest(worded)).answerable, worded
    assert not is_answerable(Evidence(dense_top=9.0, term_coverage=1.0, chinese=False, words=0), Thresholds())


def test_a_word_or_two_in_another_script_that_no_clause_holds_is_not_answerable(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    for few in ("hello", "asdf", "Thanks", "ok!"):
        assert not retriever.search(RetrievalRequest(few)).answerable, few
    assert retriever.search(RetrievalRequest("Can foreigners get a work permit?")).answerable  # a question is asked
    few_words = Evidence(dense_top=2.1, term_coverage=0.0, chinese=False, words=2)
    assert not is_answerable(few_words, Thresholds())
    assert is_answerable(few_words._replace(term_coverage=0.5), Thresholds())  # a clause holds one of them (AEO)
    assert is_answerable(few_words._replace(words=3), Thresholds())


def test_a_question_without_chinese_that_stands_near_chit_chat_is_not_answerable(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    for chat in ("What is the weather like tomorrow?", "Tell me a joke."):
        retrieval = retriever.search(RetrievalRequest(chat, top_k=3))
        assert not retrieval.answerable and len(retrieval.hits) == 3, chat
        similarity = retrieval.evidence.chit_chat_similarity
        assert similarity is not None and similarity >= Thresholds().chit_chat_similarity_other_languages, chat
    asked = retriever.search(RetrievalRequest("Can the Qinzhou port area carry out parallel imports of cars?"))
    assert asked.answerable
    assert retriever.search(RetrievalRequest(ANSWERED)).evidence.chit_chat_similarity is None  # Chinese: the level
    assert retriever.search(RetrievalRequest("Tell me a joke.", mode="bm25")).evidence.chit_chat_similarity is None
    unasked = Retriever(default_index, RankingConfig(thresholds=Thresholds(chit_chat_similarity_other_languages=None)))
    assert unasked.search(RetrievalRequest("Tell me a joke.")).answerable
    near = Evidence(dense_top=2.1, term_coverage=0.0, chinese=False, words=3, chit_chat_similarity=0.81)
    assert not is_answerable(near, Thresholds())
    assert is_answerable(near._replace(chit_chat_similarity=0.79), Thresholds())
    assert is_answerable(
        near._replace(chinese=True, dense_top=2.3, chit_chat_level=2.0), Thresholds()
    )  # the level decides
    off = Settings(answerable_chit_chat_similarity_other_languages="off").ranking_config()
    assert off.thresholds.chit_chat_similarity_other_languages is None


def test_chit_chat_is_flagged_and_a_real_question_answered_on_the_default_notice(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    flagged = sum(not retriever.search(RetrievalRequest(question)).answerable for question in chit_chat_questions())
    assert flagged >= 0.9 * len(chit_chat_questions())
    answered = retriever.search(RetrievalRequest(ANSWERED))
    level = answered.evidence.chit_chat_level
    assert answered.answerable and level is not None and answered.evidence.dense_top > level


def test_the_level_is_measured_only_for_chinese_questions_the_dense_leg_ranks(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    assert retriever.search(RetrievalRequest("Can foreigners get a work permit?")).evidence.chit_chat_level is None
    assert retriever.search(RetrievalRequest(ANSWERED, mode="bm25")).evidence.chit_chat_level is None
    assert retriever.search(RetrievalRequest(ANSWERED, mode="dense")).evidence.chit_chat_level is not None
    unasked = Retriever(default_index, RankingConfig(thresholds=Thresholds(above_chit_chat=None)))
    assert unasked.search(RetrievalRequest(ANSWERED)).evidence.chit_chat_level is None


def test_a_library_closer_to_chit_chat_raises_its_level_from_the_write_on(
    corpus_copy: Path, seeded_index_dir: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index, _ = open_index(IndexConfig(corpus_copy, seeded_index_dir), embedder=embedder)
    try:
        retriever = Retriever(index)
        retriever.prepare()
        before = retriever.search(RetrievalRequest(ANSWERED)).evidence.chit_chat_level
        everyday = tmp_path / "everyday.txt"
        everyday.write_text(EVERYDAY_NOTICE, encoding="utf-8")
        index.ingest([load_notice(everyday)])
        after = retriever.search(RetrievalRequest(ANSWERED)).evidence.chit_chat_level
        assert before is not None and after is not None and after > before
        assert after == Retriever(index).search(RetrievalRequest(ANSWERED)).evidence.chit_chat_level
    finally:
        index.close()


def test_the_setting_off_asks_nothing_of_chit_chat() -> None:
    assert Settings(answerable_above_chit_chat="off").ranking_config().thresholds.above_chit_chat is None
    assert Settings().ranking_config().thresholds.above_chit_chat == Thresholds().above_chit_chat


def test_the_guangxi_plan_does_not_answer_for_another_place_or_a_central_organ(default_index: DirectoryIndex) -> None:
    retriever = Retriever(default_index)
    for question in ("江西的融资租赁公司能收外币租金吗？", "商务部对汽车平行进口有什么规定？"):
        assert not retriever.search(RetrievalRequest(question)).answerable, question
    for question in (
        "钦州港片区能做汽车平行进口吗？",
        "东盟国家的企业能在自贸区投资吗？",
        "国家支持自贸试验区开展哪些金融创新？",
    ):
        assert retriever.search(RetrievalRequest(question)).answerable, question
    unasked = Retriever(default_index, RankingConfig(thresholds=Thresholds(other_place=False)))
    assert unasked.search(RetrievalRequest("江西的融资租赁公司能收外币租金吗？")).answerable
    assert unasked.search(RetrievalRequest("商务部对汽车平行进口有什么规定？")).answerable
