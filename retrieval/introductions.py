"""Clauses that introduce a notice's content rather than state it: a news report's lead that carries its headline,
and a covering paragraph that announces what follows.

Pages scraped into one line run a report's headline into its first paragraph (农业农村部开通“春耕农机线上服务站”
眼下，全国即将进入…), so that paragraph holds the words of the headline as well as its own. A question written from
the headline matches it on both legs, though the answer most often lies further down (…具有四方面功能). The
headline's words are what tells the notice apart (the notice leg already has them, and cutting them out of the lead
ranked the right notice first less often: README, *Evaluation*), so they stay indexed. A notice with no headline is
named by its opening words (corpus/parser.py), which then stand to its first paragraph as a headline does; a notice
whose title stands on a line of its own (the default notice) has no such lead.

A covering paragraph (为…，现将有关事项通知如下：) holds the words of the whole notice's subject, and the measures it
announces follow it. Within the notice, the Retriever places each of these as if it scored a share of its score
(``RankingConfig.lead_share``, ``announcement_share``).
"""

from __future__ import annotations

import re

from corpus.models import Passage

# A title shorter than this says too little to be looked for.
MIN_HEADLINE_CHARS = 4
# …通知如下：, …公告如下。, …解读如下:
_ANNOUNCES = re.compile(r"如下\s*[：:。.]?\s*$")


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def carries_headline(passage: Passage) -> bool:
    """Whether ``passage`` opens with its notice's title: a lead into which a page ran the headline."""
    title = _squeezed(passage.doc_title)
    # The title's length twice over is room enough for the spaces a page breaks it with.
    return len(title) >= MIN_HEADLINE_CHARS and _squeezed(passage.body[: 2 * len(title)]).startswith(title)


def announces_what_follows(passage: Passage) -> bool:
    """Whether ``passage`` ends by announcing what follows it (…通知如下：)."""
    return _ANNOUNCES.search(passage.body) is not None
