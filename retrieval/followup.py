"""Resolve an elliptical follow-up question against the conversation's earlier questions, before it is searched.

People asking a chat widget leave out what the last question already said. Three shapes cover most of it:

- **contrast**: "那个体工商户呢？", "湖北呢？", "那湖北的企业呢？": the same question, of another party or place.
  The earlier question is asked again with the contrasted place put in for the province or city it named (or put
  in front when it named none), and the contrasted party in for the earlier word of the same kind: a party for its
  first party (企业 → 个体工商户), else the word it ends with (组长 → 副组长) or a noun ending in the same character
  (试验区 → 钦州港片区). With no word of its kind, it is a new subject asked of the earlier question's place and
  party: 北京中小微企业 + 研发费用.
- **aspect**: "需要什么材料？", "有效期多久？", "怎么申请？": another aspect of the same subject; the question names
  no subject of its own once its question words, aspect words and particles are set aside. The earlier
  question's subject (without its own question words) is put in front of it.
- **reference**: "这项政策适用于个体工商户吗？": it points back (这项政策, 上述, 该…); the earlier subject is put in
  front of it with the pointer dropped.

Any other question names its own subject and is searched as asked. Each earlier question is itself resolved
against those before it, so a chain of follow-ups keeps its subject. No model: rules, jieba's part-of-speech tags
(which words of the earlier question modify its party) and the gazetteer of corpus/regions.py, so the same
conversation always searches the same question. The Retriever ranks a completed follow-up beside the follow-up as
asked (retrieval/retriever.py): eval/conversations/README.md has the figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jieba.posseg as posseg

from corpus.regions import Region, places_in

# How a follow-up opens ("那", "那么", "如果是", "还有"), and a contrast's closing "呢".
_OPENING = re.compile(r"^(?:那么|那(?=个体)|那(?!个)|如果是|要是|还有|另外|再问一下|请问|我想问一下)?\s*")
_CONTRAST = re.compile(r"^(?P<what>[^？?。，,；;呢]{1,12})呢[？?。！!\s]*$")
# Words that ask or name an aspect, not a subject: what is left of a question without them is its subject.
_QUESTION_WORDS = (
    "是不是|能不能|可不可以|有没有|是否|能否|可否|什么时候|什么|多久|多长时间|多长|多少|哪些|哪个|哪里|哪儿|哪|"
    "怎么样|怎么办|怎么|怎样|如何|为何|为什么|几|吗|呢|吧|啊|呀"
)
_ASPECT_WORDS = (
    "需要|需|要|可以|能够|能|会|应该|应当|该|是|有|的|了|都|还|也|具体|一般|主要|相关|分别|"
    "材料|资料|证明|手续|条件|要求|流程|程序|步骤|办法|方式|渠道|途径|时间|时限|期限|有效期|截止|开始|结束|"
    "标准|金额|额度|比例|范围|对象|部门|机构|单位|地点|电话|网址|窗口|费用|收费|"
    "申请|申报|办理|提交|提供|准备|领取|享受|适用|执行|实施|落实|咨询|联系|找|去|交|给|"
    "政策|规定|措施|文件|通知|内容|情况"
)
# Words that point back to the earlier subject (not 其 or 以上: 其他, 3个月以上).
_POINTERS = "这项政策|这个政策|该政策|此项政策|这一政策|这些政策|上述政策|以上政策|这项|这个|这些|该项|此项|上述|它"
_POINTER = re.compile(_POINTERS)
_ASKING = re.compile(_QUESTION_WORDS)
_NOT_SUBJECT = re.compile(f"{_POINTERS}|{_QUESTION_WORDS}|{_ASPECT_WORDS}|[^\u4e00-\u9fffA-Za-z0-9]")
# A subject of at most this many characters is no subject: "补贴", "税".
_MAX_BARE_SUBJECT = 2

# Parties a measure is for: a contrast of one of them takes the place of the earlier question's party.
_PARTY_HEADS = (
    "个体工商户|工商户|商户|农户|企业|公司|单位|机构|组织|合作社|医院|学校|"
    "农民工|职工|员工|工人|人员|人才|毕业生|学生|纳税人|居民|群众|家庭|个人|患者|老人|儿童"
)
_PARTY_HEAD = re.compile(_PARTY_HEADS)
# The words before an earlier party that belong to it (中小微 企业, 银行 机构): nouns, abbreviations, attributes and
# names, as jieba tags them; a verb, a particle, a place or a question word ends them.
_MODIFIER_TAGS = ("n", "j", "b", "a", "l", "vn")
_PLACE_TAG = "ns"
_MAX_MODIFIERS = 3
_PARTY_HEAD_AT_END = re.compile(f"(?:{_PARTY_HEADS})$")
_CITY = 2  # Region.level of a city
# What may follow a place's name in a contrast of places: its kind of division, then 的 or the end.
_PLACE_LEAD = re.compile(r"^(?:省|市|自治区|地区|县|区)?(?:的|$)")
_TRAILING = re.compile(r"[？?。！!\s]+$")


def resolve(question: str, history: Sequence[str] = ()) -> str:
    """The question to search for ``question``, given the conversation's earlier questions, oldest first: an
    elliptical follow-up completed from the most recent of them, anything else unchanged."""
    context = ""
    for earlier in history:
        if earlier.strip():
            context = _resolve_one(earlier, context) if context else earlier
    return _resolve_one(question, context) if context else question


def _resolve_one(question: str, earlier: str) -> str:
    """``question`` completed from ``earlier`` (itself complete) if it is a contrast, points back or names no subject."""
    body = _OPENING.sub("", question.strip(), count=1)
    contrast = _CONTRAST.match(body)
    if contrast and not _ASKING.search(contrast["what"]):
        return _contrasted(contrast["what"], earlier)
    if _POINTER.search(body):
        return f"{_topic(earlier)} {_POINTER.sub('', body)}"
    if len(_subject(body)) <= _MAX_BARE_SUBJECT:
        return f"{_topic(earlier)} {body}"
    return question


def _subject(text: str) -> str:
    """What a question names once its pointers, question words, aspect words and punctuation are set aside."""
    return _NOT_SUBJECT.sub("", text)


def _topic(question: str) -> str:
    """The earlier question without what it asked: its subject, in its own words."""
    return _TRAILING.sub("", _ASKING.sub("", question)).strip()


def _contrasted(what: str, earlier: str) -> str:
    """The earlier question asked of ``what``: a place for its place, a party for its party."""
    resolved, rest = _TRAILING.sub("", earlier), what
    places = places_in(what)
    if places:  # 湖北, 湖北省, 湖北的企业; not 钦州港片区, a zone of 钦州 named as a whole
        name = _written_name(places[0], what)
        lead = _PLACE_LEAD.match(what[len(name) :]) if what.startswith(name) else None
        if lead:
            resolved = _put_place(resolved, name, places[0])
            rest = what[len(name) + lead.end() :]
    if rest:
        resolved = _put_party(resolved, rest)
    return resolved + _ending(earlier)


def _put_place(question: str, name: str, place: Region) -> str:
    """``question`` of the place ``name``: in place of the first province or city it names, or in front. (A county's
    name is as often a word: 合作 is a city of Gansu.)"""
    for named in places_in(question):
        if named != place and named.level <= _CITY:
            return question.replace(_written_name(named, question), name, 1)
    return question if place in places_in(question) else name + question


def _put_party(question: str, party: str) -> str:
    """``question`` of ``party``: in place of its word of the same kind, else ``party`` asked of its place and party."""
    words = [(word.word, word.flag) for word in posseg.lcut(question)]
    found = _party_word(words, party, _PARTY_HEAD_AT_END.search(party) is not None)
    if found is not None:
        start, end = _span(words, found, with_place=bool(places_in(party)))
        return question[:start] + party + question[end:]
    # Nothing of its kind to replace: a new subject, asked of the same place and party.
    frame = [_written_name(place, question) for place in places_in(question) if place.level <= _CITY]
    found = _party_word(words, party, of_parties=True)
    if found is not None:
        start, end = _span(words, found)
        frame.append(question[start:end])
    return "".join(frame) + party


def _span(words: list[tuple[str, str]], found: int, with_place: bool = False) -> tuple[int, int]:
    """Where the ``found``-th word and the words modifying it stand in the question; ``with_place``, also the place
    named right before them (南宁 片区, replaced by 钦州港片区, which names its own)."""
    first = found
    while first > 0 and found - first < _MAX_MODIFIERS and _modifies(words[first - 1][1]):
        first -= 1
    if with_place and first > 0 and words[first - 1][1] == _PLACE_TAG:
        first -= 1
    return sum(len(word) for word, _ in words[:first]), sum(len(word) for word, _ in words[: found + 1])


def _modifies(tag: str) -> bool:
    return tag.startswith(_MODIFIER_TAGS) and tag != _PLACE_TAG


def _party_word(words: list[tuple[str, str]], party: str, of_parties: bool) -> int | None:
    """Which of the earlier question's words ``party`` stands in for: its first party (``of_parties``), else the word
    ``party`` ends with, else the first noun ending in the same character (试验区 for 片区: a thing of the same kind)."""
    if of_parties:
        return next((i for i, (word, _) in enumerate(words) if _PARTY_HEAD.search(word)), None)
    same = next((i for i, (word, _) in enumerate(words) if len(word) > 1 and party.endswith(word)), None)
    if same is not None:
        return same
    return next(
        (i for i, (word, tag) in enumerate(words) if len(word) > 1 and word[-1] == party[-1] and _modifies(tag)), None
    )


def _written_name(place: Region, text: str) -> str:
    """How ``text`` writes ``place``: the longest start of its full name (two characters or more) that it holds."""
    name = place.name
    for end in range(2, len(name) + 1):
        if name[:end] in text and (end == len(name) or name[: end + 1] not in text):
            return name[:end]
    return name


def _ending(question: str) -> str:
    found = _TRAILING.search(question)
    return found.group().strip() if found else ""
