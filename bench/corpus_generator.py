"""Synthetic notices that read like the real one, to index and search at any number of passages.

The real notice (guangxi-ftz-implementation-plan-2020) comes first, as it is. Each synthetic
notice after it keeps the real notice's clauses, in order, with their article numbers, section
paths, titles and responsible units, but moves them to another province's free trade zone
(广西 → 云南, 南宁/钦州港/崇左 → 昆明/红河/德宏, 东盟 → 南亚东南亚) and refills every clause
after its lead sentence with sentences drawn at random from the whole notice. Term
frequencies therefore follow the real notice's, with one notice's vocabulary: a pessimistic
case for an inverted index, whose posting lists only grow.

``SyntheticEmbedder`` stands in for the embedding model (what is measured is search, not
embedding). Its vectors are random but not structureless: every distinct sentence gets a
random unit vector, and a text's vector is the normalised sum of its sentences' plus noise,
so passages that share sentences are neighbours, as they would be under a real model.
A question gets a random unit vector of its own.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from corpus import DEFAULT_CORPUS_DIR, Document, Passage, load_corpus
from index.tokenizer import Tokenizer

DIM = 384
NOISE = 0.3
# A sentence ends at 。;！？ or at a line break; jieba never cuts a term across either.
_SENTENCE = re.compile(r"[^。;；!！?？\n]+(?:[。;；!！?？]+\n*|\n+|$)")
_PLACES = re.compile("广西|南宁|钦州港|崇左|东盟")
# Province, its three zones (in place of 南宁, 钦州港, 崇左) and the partner it faces (in place of 东盟).
PROVINCES = (
    ("云南", ("昆明", "红河", "德宏"), "南亚东南亚"),
    ("黑龙江", ("哈尔滨", "黑河", "绥芬河"), "俄罗斯"),
    ("山东", ("济南", "青岛", "烟台"), "日韩"),
    ("江苏", ("南京", "苏州", "连云港"), "欧盟"),
    ("河北", ("雄安", "正定", "曹妃甸"), "京津"),
    ("湖南", ("长沙", "岳阳", "郴州"), "非洲"),
    ("安徽", ("合肥", "芜湖", "蚌埠"), "长三角"),
    ("河南", ("郑州", "开封", "洛阳"), "中亚"),
    ("湖北", ("武汉", "襄阳", "宜昌"), "长江经济带"),
    ("四川", ("天府", "青白江", "川南"), "中欧班列沿线"),
    ("辽宁", ("沈阳", "大连", "营口"), "东北亚"),
    ("浙江", ("舟山", "宁波", "金义"), "海上丝绸之路"),
)


@dataclass
class SyntheticCorpus:
    """The notices and their passages, in order."""

    documents: list[Document]
    passages: list[Passage]


def sentences(text: str) -> list[str]:
    """``text`` cut after each run of 。;！？ and at line breaks."""
    return _SENTENCE.findall(text)


def generate(size: int, seed: int = 0) -> SyntheticCorpus:
    """``size`` passages: the real notice's first, then as many synthetic notices as it takes."""
    rng = random.Random(seed)
    real = load_corpus(DEFAULT_CORPUS_DIR).notices[0]
    documents, passages = [real.document], real.passages[:size]
    while len(passages) < size:
        document, notice_passages = _synthetic_notice(len(documents), real.document, real.passages, rng)
        documents.append(document)
        passages += notice_passages[: size - len(passages)]
    return SyntheticCorpus(documents, passages)


def unit_vectors(rng: np.random.Generator, count: int, dim: int = DIM) -> np.ndarray:
    """``count`` random float32 vectors of length 1, uniform on the sphere."""
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class SentenceCachedTokenizer:
    """``tokenizer.tokenize``, cutting each distinct sentence once: recombined notices repeat their sentences."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._terms: dict[str, list[str]] = {}

    def tokenize(self, text: str) -> list[str]:
        """The same terms as ``tokenizer.tokenize(text)``."""
        terms = []
        for sentence in sentences(text):
            if sentence not in self._terms:
                self._terms[sentence] = self._tokenizer.tokenize(sentence)
            terms += self._terms[sentence]
        return terms


class SyntheticEmbedder:
    """Random vectors with the neighbourhoods of real ones: texts that share sentences are close."""

    id = "synthetic/sentence-sum"
    dim = DIM

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)
        self._sentence_ids: dict[str, int] = {}
        self._sentence_vectors = np.zeros((0, DIM), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """A random unit vector per question, the same for the same question."""
        return np.vstack([unit_vectors(np.random.default_rng(zlib.crc32(t.encode())), 1) for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Per text, the normalised sum of its sentences' vectors and of ``NOISE`` x a random vector."""
        rows, columns = [], []
        for row, text in enumerate(texts):
            for sentence in sentences(text):
                rows.append(row)
                columns.append(self._sentence_ids.setdefault(sentence.strip(), len(self._sentence_ids)))
        new = len(self._sentence_ids) - len(self._sentence_vectors)
        self._sentence_vectors = np.vstack([self._sentence_vectors, unit_vectors(self._rng, new)])
        membership = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(len(texts), len(self._sentence_vectors))
        )
        vectors = membership @ self._sentence_vectors + NOISE * unit_vectors(self._rng, len(texts))
        if progress is not None:
            progress(len(texts))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _synthetic_notice(
    number: int, template: Document, clauses: list[Passage], rng: random.Random
) -> tuple[Document, list[Passage]]:
    province, zones, partner = PROVINCES[(number - 1) % len(PROVINCES)]
    names = {"广西": province, "南宁": zones[0], "钦州港": zones[1], "崇左": zones[2], "东盟": partner}

    def moved(text: str) -> str:
        return _PLACES.sub(lambda match: names[match.group()], text)

    doc_id = f"synthetic-{number:05d}"
    pool = [moved(sentence) for clause in clauses for sentence in sentences(clause.body)]
    passages, texts, offset = [], [], 0
    for clause in clauses:
        lead, *rest = sentences(clause.body)
        body = moved(lead) + "".join(rng.sample(pool, len(rest)))
        text = body + moved(clause.text[len(clause.body) :])  # the (责任单位:…) tail, if any
        passages.append(
            Passage(
                passage_id=f"{doc_id}:{clause.passage_id.split(':', 1)[1]}",
                doc_id=doc_id,
                doc_title=moved(clause.doc_title),
                article=clause.article,
                section_path=tuple(moved(heading) for heading in clause.section_path),
                title=moved(clause.title),
                text=text,
                body=body,
                responsible_units=tuple(moved(unit) for unit in clause.responsible_units),
                start=offset,
                end=offset + len(text),
                citation=moved(clause.citation),
            )
        )
        texts.append(text)
        offset += len(text) + 2
    document = Document(
        doc_id=doc_id,
        title=moved(template.title),
        citation_title=moved(template.citation_title),
        source_file=f"{doc_id}.txt",
        text="\n\n".join(texts),
        identity=replace(
            template.identity,
            issuer=moved(template.identity.issuer) if template.identity.issuer else None,
            date=f"{2020 + number % 6}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            region=None,  # its places were moved
        ),
    )
    return document, passages
