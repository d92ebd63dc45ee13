"""The one ranker above every store: candidates from each leg, fusion, reranking, answerability, highlights.

A store (index/contract.py) hands out a snapshot holding each leg's raw scores and the passages;
everything a question's answer is made of is decided here, from a ``RankingConfig``, so two stores over
the same notices rank alike and a new store or reranker changes nothing in this file.

0. Follow-ups: with the conversation's earlier questions, an elliptical follow-up is completed from them
   (retrieval/followup.py); the completed question and the follow-up as asked are each ranked through step 2, and
   each candidate keeps half of each ranking's score.
1. Candidates: BM25 over the question's jieba terms (``bm25``), and the nearest passages by vector, each
   scored with its closest window (``dense``); ``RankingConfig.candidates`` deep.
2. Fusion (hybrid mode): the legs' min-max normalised scores, weighted, and the notice's own BM25 share
   where the notices' BM25 tells them apart (``notice``); then the notice's fit to the place the question
   asks about (``place``: retrieval/jurisdiction.py), and whether the question names the notice, by its 文号 or
   title (``cited``: retrieval/citation.py); a notice past its stated validity ranks lower, or is hidden
   (retrieval/expiry.py). Within the best notice, a report's lead that carries its headline, and a paragraph that
   announces what follows, are placed as if they scored a share of their score (``intro``:
   retrieval/introductions.py).
3. Reranking, with a reranker: the best ``rerank_depth`` candidates of the best notice (``rerank_scope``
   ``notice``; or of all, ``all``) are read with the question; the
   reranker's score (a probability: a clause it is unsure of moves little) takes ``rerank_weight`` of their final
   score (``rerank``), the first stage's score, over the best one's, the rest.
4. Answerability: not for a question without a word (？？？, 123) or of a word or two in another script that no clause
   holds (hello), nor where the question names a place (or a central organ) and the best clauses are all another
   place's (or local), nor for a question without Chinese that stands near chit-chat; else from the reranker's best
   score where it read the candidates and the config sets a threshold for it, else from the legs' evidence, a Chinese question's dense evidence standing above what chit-chat
   reaches in the library (retrieval/chit_chat.py); each returned clause's best sentences; and copies of a clause (the same
   text in another notice) folded into the best ranked of them, so that the results hold each text once.
"""

from __future__ import annotations

import datetime
import heapq
import time
from collections.abc import Callable, Hashable, Iterator
from functools import lru_cache, partial

import numpy as np

from corpus.models import Passage
from corpus.regions import region_named
from index.clauses import lexical_text
from index.contract import Filters, Readable, Scores, Snapshot
from index.errors import IndexUnavailableError
from index.tokenizer import Tokenizer, has_chinese, normalize
from retrieval.answerability import PLACE_EVIDENCE_DEPTH, Evidence, is_answerable, term_coverage, word_count
from retrieval.chit_chat import chit_chat_level, chit_chat_vectors, nearest_chit_chat
from retrieval.citation import Citation
from retrieval.config import RankingConfig
from retrieval.copies import copy_key, near_copies
from retrieval.expiry import Expiry
from retrieval.followup import resolve
from retrieval.fusion import weighted
from retrieval.highlight import SentenceTerms, best_sentence, sentence_terms
from retrieval.introductions import announces_what_follows, carries_headline
from retrieval.jurisdiction import Jurisdiction
from retrieval.rerankers import Reranker
from retrieval.results import MODES, Hit, Retrieval, RetrievalRequest

QUERY_CACHE_SIZE = 4096
SENTENCE_CACHE_SIZE = 8192

Parts = dict[str, float]  # each stage's part in a passage's score, by name


class Retriever:
    """Ranks a store's clauses for a question (``search``), by ``config``, reranking with ``reranker`` if given."""

    def __init__(self, store: Readable, config: RankingConfig | None = None, reranker: Reranker | None = None) -> None:
        self.store = store
        self.config = config or RankingConfig()
        self.reranker = reranker
        self._home = region_named(self.config.home_region) if self.config.home_region else None
        # Portals see the same questions again and again: keep their embeddings.
        self.query_vector = lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)
        # Cutting a passage into sentences and terms costs a millisecond; answers reuse the same passages.
        self._sentence_terms = lru_cache(maxsize=SENTENCE_CACHE_SIZE)(_cut_sentences)
        self._chit_chat: tuple[Hashable, float] | None = None  # the last store version's chit-chat level
        # The places a question asks about, read once for its ranking and its answerability.
        self._jurisdiction = lru_cache(maxsize=QUERY_CACHE_SIZE)(partial(Jurisdiction, home=self._home))

    def search(self, request: RetrievalRequest) -> Retrieval:
        """The ``top_k`` clauses that best answer the question, best first, and whether any answers it; all read
        from one snapshot of the store.

        ``mode`` is ``hybrid`` (both legs fused), ``bm25`` or ``dense``; ``filters`` keep one notice's
        passages and/or those under a heading containing ``section``, and the notices of an issuer, region,
        kind or dates of issue (``index.Filters``). With ``history``, an elliptical follow-up is first completed
        from the earlier questions (``Retrieval.searched``).
        """
        if request.mode not in MODES:
            raise ValueError(f"unknown mode {request.mode!r}; choose one of {', '.join(MODES)}")
        if request.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {request.top_k}")
        started = time.perf_counter()
        asked = request
        request = request._replace(query=resolve(request.query, request.history))
        embedding = time.perf_counter()
        vectors = self._query_vectors(request.mode, {request.query, asked.query})
        embed_ms = round((time.perf_counter() - embedding) * 1000, 2)
        with self.store.reading() as snapshot:
            query_terms, runs, scored = self._scored(snapshot, request, vectors)
            if request.query != asked.query:
                # A completed follow-up also carries the earlier question's words, which pull towards the clause that
                # answered it: the follow-up as asked ranks beside it, half and half.
                asked_terms, _, scored_as_asked = self._scored(snapshot, asked, vectors)
                scored = _halves(scored, scored_as_asked)
                query_terms = list(dict.fromkeys(query_terms + asked_terms))
            order = _best_first(scored)
            if request.mode == "hybrid":
                order = self._place_introductions(snapshot, order, scored)
            rerank_top = None
            if self.reranker is not None and request.rerank and order:
                order, rerank_top = self._rerank(snapshot, self.reranker, request.query, order, scored)
            hits = self._hits(snapshot, order, scored, set(query_terms), request.top_k)
            elsewhere = self._elsewhere(snapshot, request.query, order)
            vector = vectors.get(request.query)
            evidence = self._evidence(snapshot, runs, query_terms, request.query, vector, rerank_top, elsewhere)
        took_ms = round((time.perf_counter() - started) * 1000, 2)
        answerable = is_answerable(evidence, self.config.thresholds)
        return Retrieval(hits, evidence, answerable, took_ms, request.query, embed_ms)

    def _query_vectors(self, mode: str, queries: set[str]) -> dict[str, np.ndarray]:
        """Each question's vector, where the mode reads vectors; embedded before the store is read, so that a
        snapshot is held only while it is searched."""
        if mode not in ("hybrid", "dense"):
            return {}
        return {query: self.query_vector(normalize(query)) for query in queries}

    def _scored(
        self, snapshot: Snapshot, request: RetrievalRequest, vectors: dict[str, np.ndarray]
    ) -> tuple[list[str], dict[str, Scores], dict[str, Parts]]:
        """The question's terms, each leg's candidates, and each candidate's first-stage score as its parts, with the
        place and expiry applied."""
        query_terms = snapshot.tokenizer.tokenize(request.query)
        runs = self._candidates(snapshot, request, query_terms, vectors.get(request.query))
        scored = self._first_stage(snapshot, runs, query_terms, request.mode)
        if request.mode == "hybrid":
            self._add_place(snapshot, scored, request.query)
            self._add_citation(snapshot, scored, request.query)
        self._demote_expired(snapshot, scored, request.query)
        return query_terms, runs, scored

    def highlight(self, passage: Passage, query: str) -> str:
        """The sentences of ``passage`` that best answer ``query``, as they stand in it."""
        with self.store.reading() as snapshot:
            return self._highlight(snapshot, passage, set(snapshot.tokenizer.tokenize(query)))

    def _candidates(
        self, snapshot: Snapshot, request: RetrievalRequest, query_terms: list[str], vector: np.ndarray | None
    ) -> dict[str, Scores]:
        """Each leg the mode runs, ``candidates`` deep; the dense leg from the question's ``vector``."""
        runs: dict[str, Scores] = {}
        if request.mode in ("hybrid", "bm25"):
            runs["bm25"] = snapshot.lexical_run(query_terms, request.filters, self.config.candidates)
        if vector is not None:
            runs["dense"] = self._dense_run(snapshot, vector, request.filters)
        return runs

    def _dense_run(self, snapshot: Snapshot, vector: np.ndarray, filters: Filters) -> Scores:
        """Each passage's similarity plus ``window_weight`` times its closest window's: a long clause whose one
        sentence answers the question is not drowned by the rest of it."""
        nearest = snapshot.passage_run(vector, filters, self.config.candidates)
        best_window = snapshot.sentence_run(vector, list(nearest))
        floor = min(best_window.values(), default=0.0)  # for a passage too short to have windows
        weight = self.config.window_weight
        scores = {key: similarity + weight * best_window.get(key, floor) for key, similarity in nearest.items()}
        return dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))

    def _first_stage(
        self, snapshot: Snapshot, runs: dict[str, Scores], query_terms: list[str], mode: str
    ) -> dict[str, Parts]:
        """Each candidate's score as its parts: one leg's raw score, or in hybrid mode the fused legs and the notice."""
        if mode != "hybrid":
            return {key: {mode: score} for key, score in runs[mode].items()}
        fused = weighted(
            runs, {"bm25": self.config.bm25_weight, "dense": self.config.dense_weight}, floors={"bm25": 0.0}
        )
        self._add_notice_leg(snapshot, fused, query_terms)
        return fused

    def _add_notice_leg(self, snapshot: Snapshot, fused: dict[str, Parts], query_terms: list[str]) -> None:
        """Give each fused passage its notice's share, ``notice_weight`` times the notice's BM25 score over the best
        notice's, and scale the legs' parts to the rest. One notice alone, or none holding the terms, adds nothing."""
        notices = snapshot.notice_run(query_terms)
        best = max(notices.values(), default=0.0)
        if best <= 0:
            return
        share = self.config.notice_weight
        for key, parts in fused.items():
            for leg in parts:
                parts[leg] *= 1 - share
            parts["notice"] = share * notices.get(_doc_id(key), 0.0) / best

    def _add_place(self, snapshot: Snapshot, scored: dict[str, Parts], query: str) -> None:
        """Give the best candidates ``place_weight`` of their notice's fit to the place the question asks about
        (``place``)."""
        jurisdiction = self._jurisdiction(query)
        fit = partial(_region_fit, jurisdiction)
        self._add_part(snapshot, scored, "place", self.config.place_weight, fit)

    def _add_citation(self, snapshot: Snapshot, scored: dict[str, Parts], query: str) -> None:
        """Give the best candidates ``citation_weight`` where the question names their notice, by its 文号 or its
        title (``cited``)."""
        citation = Citation(query)
        if citation.names_a_notice:
            self._add_part(snapshot, scored, "cited", self.config.citation_weight, citation.cites)

    def _add_part(
        self, snapshot: Snapshot, scored: dict[str, Parts], stage: str, share: float, fit: Callable[[Passage], float]
    ) -> None:
        """Give the best ``place_depth`` candidates ``share`` times their passage's ``fit`` (0 to 1) as the part
        ``stage``, and scale every candidate's other parts to the rest. Where every candidate fits alike (one
        notice, or notices alike in what ``fit`` reads) it adds nothing."""
        if share <= 0:
            return
        fits = {key: fit(passage) for key, passage in _passages(snapshot, _best_first(scored, self.config.place_depth))}
        if len(set(fits.values())) < 2:
            return
        for parts in scored.values():
            for part in parts:
                parts[part] *= 1 - share
        for key, value in fits.items():
            scored[key][stage] = share * value

    def _demote_expired(self, snapshot: Snapshot, scored: dict[str, Parts], query: str) -> None:
        """Of the best ``place_depth`` candidates, drop those of expired notices (``expired=hide``) or keep
        ``expired_share`` of their score (``mark``)."""
        expiry = Expiry(query, datetime.date.today())
        for key, passage in _passages(snapshot, _best_first(scored, self.config.place_depth)):
            if not expiry.expired(passage.identity):
                continue
            if self.config.expired == "hide":
                del scored[key]
            else:
                scored[key] = {stage: part * self.config.expired_share for stage, part in scored[key].items()}

    def _rerank(
        self, snapshot: Snapshot, reranker: Reranker, query: str, order: list[str], scored: dict[str, Parts]
    ) -> tuple[list[str], float | None]:
        """Read the head (``_rerank_head``) with the question, and reorder it: each clause's new score is the
        reranker's score for ``rerank_weight`` and the first stage's (over the head's best) for the rest.
        With scope ``notice`` the head keeps the places it held, best new score in the best place, each clause's
        ``rerank`` part what the move added or took away; with ``all`` the new scores rank it. The new order, and
        the reranker's best raw score (None if it read nothing)."""
        head = self._rerank_head(snapshot, order)
        raw = reranker.score(query, [lexical_text(passage) for _, passage in head])
        if not len(raw):
            return order, None
        weight = self.config.rerank_weight
        keys = [key for key, _ in head]
        first = np.array([sum(scored[key].values()) for key in keys])
        if self.config.rerank_scope == "all":
            best = sum(scored[order[0]].values())
            scale = (1 - weight) / best if best > 0 else 1 - weight
            for parts in scored.values():
                for stage in parts:
                    parts[stage] *= scale
            for key, value in zip(keys, raw.tolist(), strict=True):
                scored[key]["rerank"] = weight * value
            return _best_first(scored), float(raw.max())
        best = float(first.max())
        # The raw probability, not one spread over the head: min-max made a model that was unsure of every clause
        # of a notice unlike its training (the Guangxi plan) reorder them as if it were sure (gold Hit@1 0.855 →
        # 0.711 with the 6-layer model; with its raw scores 0.855 → 0.882).
        new = (1 - weight) * first / best + weight * raw if best > 0 else raw
        return _into_places(scored, order, keys, new, "rerank"), float(raw.max())

    def _place_introductions(self, snapshot: Snapshot, order: list[str], scored: dict[str, Parts]) -> list[str]:
        """Reorder the best notice's best clauses as if a lead that carries the headline scored ``lead_share`` of its
        score, and a paragraph that announces what follows ``announcement_share`` (retrieval/introductions.py), among
        the places they held (``intro``)."""
        if self.config.lead_share == self.config.announcement_share == 1:
            return order
        head = self._notice_head(snapshot, order)
        shares = np.array([self._introduction_share(passage) for _, passage in head])
        if (shares == 1).all():
            return order
        keys = [key for key, _ in head]
        new = shares * np.array([sum(scored[key].values()) for key in keys])
        return _into_places(scored, order, keys, new, "intro")

    def _introduction_share(self, passage: Passage) -> float:
        """The share of its score ``passage`` is placed by: the lead's, the announcement's, or all of it."""
        if carries_headline(passage):
            return self.config.lead_share
        if announces_what_follows(passage):
            return self.config.announcement_share
        return 1.0

    def _rerank_head(self, snapshot: Snapshot, order: list[str]) -> list[tuple[str, Passage]]:
        """The clauses the reranker reads: the best ``rerank_depth`` of the scope (the best notice's, or all)."""
        if self.config.rerank_scope == "all":
            return [
                (key, passage) for key in order[: self.config.rerank_depth] if (passage := snapshot.get_passage(key))
            ]
        return self._notice_head(snapshot, order)

    def _notice_head(self, snapshot: Snapshot, order: list[str]) -> list[tuple[str, Passage]]:
        """The best ``rerank_depth`` clauses of the best notice, best first."""
        depth = self.config.rerank_depth
        head: list[tuple[str, Passage]] = []
        notice = None
        for key in order:
            if notice not in (None, _doc_id(key)) or (passage := snapshot.get_passage(key)) is None:
                continue
            notice = passage.doc_id
            head.append((key, passage))
            if len(head) == depth:
                break
        return head

    def _hits(
        self, snapshot: Snapshot, order: list[str], scored: dict[str, Parts], query_terms: set[str], top_k: int
    ) -> list[Hit]:
        """The ``top_k`` best clauses, each copy of one (the same text, ``copy_key``, or nearly: ``near_copies``)
        folded into the best ranked."""
        hits: list[Hit] = []
        kept: dict[str, int] = {}  # a hit's copy key → its place in hits

        for key in order:
            if len(hits) == top_k:
                break
            if (passage := snapshot.get_passage(key)) is None:
                continue
            copy = copy_key(passage)
            place = kept.get(copy) if copy is not None else None
            if place is None and copy is not None:
                place = next((i for other, i in kept.items() if near_copies(copy, other)), None)
            if place is not None:
                first = hits[place]
                hits[place] = first._replace(copies=(*first.copies, passage))
                continue
            if copy is not None:
                kept[copy] = len(hits)
            highlight = self._highlight(snapshot, passage, query_terms)
            hits.append(Hit(len(hits) + 1, passage, float(sum(scored[key].values())), scored[key], highlight))
        return hits

    def _highlight(self, snapshot: Snapshot, passage: Passage, query_terms: set[str]) -> str:
        """The sentences of ``passage`` that best answer the question."""
        candidates = self._sentence_terms(passage.body, snapshot.tokenizer)
        if not candidates:
            return passage.body
        return best_sentence(passage.body, candidates, query_terms, snapshot.term_weight)

    def _evidence(
        self,
        snapshot: Snapshot,
        runs: dict[str, Scores],
        query_terms: list[str],
        query: str,
        vector: np.ndarray | None,
        rerank_top: float | None,
        elsewhere: bool,
    ) -> Evidence:
        """How strongly the best clauses match: the dense leg's best score, and the share of the question's term weight
        the best clause holds (the BM25 leg's best, or in dense mode the dense leg's); for a question without Chinese,
        how near its ``vector`` stands to the nearest chit-chat question."""
        dense, lexical = runs.get("dense"), runs.get("bm25")
        best = next(iter(lexical if lexical is not None else dense or {}), None)
        coverage = (
            0.0 if best is None else term_coverage(query_terms, snapshot.passage_terms(best), snapshot.term_weight)
        )
        dense_top = max(dense.values(), default=0.0) if dense is not None else None
        level = None
        chinese = has_chinese(query)
        if dense is not None and chinese and self.config.thresholds.above_chit_chat is not None:
            level = self._chit_chat_level(snapshot)
        similarity = None
        limit = self.config.thresholds.chit_chat_similarity_other_languages
        if vector is not None and not chinese and limit is not None:
            similarity = nearest_chit_chat(self.store.embedder, vector)
        return Evidence(dense_top, coverage, chinese, rerank_top, level, elsewhere, word_count(query), similarity)

    def _elsewhere(self, snapshot: Snapshot, query: str, order: list[str]) -> bool:
        """Whether the notices of the best ``PLACE_EVIDENCE_DEPTH`` clauses are all another place's than the one the
        question asks about (``Jurisdiction.elsewhere``)."""
        jurisdiction = self._jurisdiction(query)
        if not (jurisdiction.named or jurisdiction.central_organ):
            return False
        best = list(_passages(snapshot, order[:PLACE_EVIDENCE_DEPTH]))
        return bool(best) and all(jurisdiction.elsewhere(passage.identity.region) for _, passage in best)

    def _chit_chat_level(self, snapshot: Snapshot) -> float:
        """The dense evidence chit-chat reaches in this version of the store (retrieval/chit_chat.py), measured once
        a version."""
        measured = self._chit_chat
        if measured is None or measured[0] != snapshot.version:
            vectors = chit_chat_vectors(self.store.embedder)
            tops = [max(self._dense_run(snapshot, vector, Filters()).values(), default=0.0) for vector in vectors]
            measured = self._chit_chat = (snapshot.version, chit_chat_level(tops))
        return measured[1]

    def prepare(self) -> None:
        """Measure what answering needs of the store's current version before the first question asks it; a store
        that cannot be read yet is measured at its first question."""
        if self.config.thresholds.above_chit_chat is None:
            return
        try:
            with self.store.reading() as snapshot:
                self._chit_chat_level(snapshot)
        except IndexUnavailableError:
            return

    def _embed_query(self, normalized_query: str) -> np.ndarray:
        vector = self.store.embedder.embed_queries([normalized_query])[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        return vector


def _passages(snapshot: Snapshot, keys: list[str]) -> Iterator[tuple[str, Passage]]:
    """Each key's passage, those the snapshot holds."""
    for key in keys:
        if (passage := snapshot.get_passage(key)) is not None:
            yield key, passage


def _doc_id(key: str) -> str:
    """The notice of the passage ``key`` names: passage ids are <doc_id>:<position>, and positions hold no colon."""
    return key.rsplit(":", 1)[0]


def _region_fit(jurisdiction: Jurisdiction, passage: Passage) -> float:
    """How well the notice of ``passage`` fits the place the question asks about (``Jurisdiction.fit``)."""
    return jurisdiction.fit(passage.identity.region)


def _halves(first: dict[str, Parts], second: dict[str, Parts]) -> dict[str, Parts]:
    """Each candidate of either ranking with half its part of each stage in each (none where it is not a candidate)."""
    halves: dict[str, Parts] = {}
    for scored in (first, second):
        for key, parts in scored.items():
            mine = halves.setdefault(key, {})
            for stage, part in parts.items():
                mine[stage] = mine.get(stage, 0.0) + part / 2
    return halves


def _into_places(scored: dict[str, Parts], order: list[str], keys: list[str], new: np.ndarray, stage: str) -> list[str]:
    """``order`` with the clauses ``keys`` (in it best first) put in the places they held, best ``new`` score in the
    best place; each one's part ``stage`` is what the move added or took away."""
    at = {key: place for place, key in enumerate(order)}
    places = [at[key] for key in keys]  # ascending: ``keys`` stand in ``order`` best first
    first = [sum(scored[key].values()) for key in keys]
    reordered = list(order)
    for place, index in enumerate(np.argsort(-new, kind="stable").tolist()):
        reordered[places[place]] = keys[index]
        scored[keys[index]][stage] = first[place] - first[index]
    return reordered


def _best_first(scored: dict[str, Parts], count: int | None = None) -> list[str]:
    """The candidates best first (ties by key); with ``count``, only that many, without ordering the rest."""
    totals = {key: sum(parts.values()) for key, parts in scored.items()}

    def order(key: str) -> tuple[float, str]:
        return -totals[key], key

    return sorted(totals, key=order) if count is None else heapq.nsmallest(count, totals, key=order)


def _cut_sentences(text: str, tokenizer: Tokenizer) -> SentenceTerms:
    # Keyed by the text and tokenizer themselves, not the passage id: a snapshot of another version of the
    # store can never get another text's sentences.
    return sentence_terms(text, tokenizer.tokenize)
