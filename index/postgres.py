"""A store in PostgreSQL with pgvector, shared by any number of service processes.

Everything lives in the ``policyqa`` schema of the database, created on first use:

- ``meta``: one row; the embedder id and dimension the vectors come from, the tokenizer's
  user words, the average BM25 length, the largest idf, and a version bumped by every ingest
  (the table's comment names the schema's own version, ``SCHEMA_VERSION``);
- ``documents``: each notice (``Document.to_dict()``), the user words its passages give, and
  the fingerprint of the file it came from;
- ``passages``: each clause (``Passage.to_dict()``), its BM25 length and its vector;
- ``postings`` (term, passage, tf, the passage's length) and ``terms`` (term, df, idf) for BM25;
- ``sentences``: the vector of each sentence long enough to say something, with its passage.

Passage vectors have an HNSW index with cosine ops; similarity is ``1 - (a <=> b)``. Sentences
are only scored for the passages a search found, through their primary key.
BM25 is summed in SQL exactly as ``index.bm25`` sums it (its ``VARIANT``). An ingest commits whole
or not at all, and each snapshot (``PostgresIndex.reading``) is one read-only transaction, so a
question's reads never mix two ingests' data, whichever process ingested. Needs PostgreSQL 16+ and
pgvector 0.8+ (for iterative index scans, which keep filtered searches' LIMITs).
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from corpus.loader import Corpus, Notice
from corpus.models import Document, Identity, Passage
from index.bm25 import EPSILON, K1, B
from index.clauses import embed_clauses, indexed_fingerprint, lexical_text
from index.contract import Filters, Index, Scores, Snapshot, notices_to_ingest
from index.dense import HNSW_EF_SEARCH
from index.embedders import Embedder
from index.embedding_cache import CachedEmbedder
from index.errors import IndexMismatchError, IndexUnavailableError
from index.tokenizer import Tokenizer, corpus_words

MIN_PGVECTOR = (0, 8, 0)
# Bumped whenever the tables change; a database made by another version is refused, not misread.
SCHEMA_VERSION = 4
# How a database made by an earlier schema is brought to this one, by the schema version it has.
_MIGRATIONS = {
    3: "ALTER TABLE policyqa.documents ADD COLUMN fingerprint text",  # schema 4: notices' fingerprints
}
# Candidates an HNSW walk keeps, as in the local backend's graph: more than the LIMIT, so that it is filled.
EF_SEARCH = HNSW_EF_SEARCH
# Serialises schema creation by processes starting at once (an arbitrary advisory lock key).
_SCHEMA_LOCK = 0x706F6C6963797161
# Passages, their terms and term weights kept per database version: portals ask about the same clauses.
_CACHE_SIZE = 32_768
# While the database is down or stuck, a search fails within seconds (and the service answers 503)
# rather than queueing for the pool's default 30 s: seconds to connect, to wait for a pooled
# connection, and for one read statement.
CONNECT_TIMEOUT = 3
POOL_WAIT_SECONDS = 3.0
STATEMENT_TIMEOUT_MS = 10_000
# The pool retries a lost connection with doubling delays (1, 2, 4 … s) until it gives up; after a long
# outage the next try could come half a minute after the database is back. Giving up after a few
# seconds lets the next request start a fresh try at once, so the service recovers with the database.
RECONNECT_SECONDS = 2.0

_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS policyqa;
CREATE TABLE policyqa.meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    embedder_id text NOT NULL,
    dim integer NOT NULL,
    user_words text[] NOT NULL,
    average_length double precision NOT NULL,
    max_idf double precision NOT NULL,
    notice_average_length double precision NOT NULL DEFAULT 1,
    notice_mean_idf double precision NOT NULL DEFAULT 0,
    version bigint NOT NULL
);
CREATE TABLE policyqa.documents (
    doc_id text PRIMARY KEY,
    user_words text[] NOT NULL,
    length integer NOT NULL DEFAULT 0,  -- the sum of its passages' BM25 lengths
    data jsonb NOT NULL,
    fingerprint text  -- clauses.indexed_fingerprint of its file; NULL if unknown
);
CREATE TABLE policyqa.passages (
    passage_id text PRIMARY KEY,
    doc_id text NOT NULL REFERENCES policyqa.documents ON DELETE CASCADE,
    section_path text[] NOT NULL,
    length integer NOT NULL,
    data jsonb NOT NULL,
    embedding vector({dim}) NOT NULL
);
CREATE INDEX ON policyqa.passages (doc_id);
CREATE INDEX ON policyqa.passages USING hnsw (embedding vector_cosine_ops);
CREATE TABLE policyqa.postings (
    term text NOT NULL,
    passage_id text NOT NULL REFERENCES policyqa.passages ON DELETE CASCADE,
    tf integer NOT NULL,
    length integer NOT NULL,  -- the passage's, so that scoring a term reads its postings alone
    PRIMARY KEY (term, passage_id) INCLUDE (tf, length)
);
CREATE INDEX ON policyqa.postings (passage_id);
CREATE TABLE policyqa.terms (
    term text PRIMARY KEY,
    df integer NOT NULL,
    idf double precision NOT NULL
);
CREATE TABLE policyqa.sentences (
    passage_id text NOT NULL REFERENCES policyqa.passages ON DELETE CASCADE,
    position integer NOT NULL,
    text text NOT NULL,
    embedding vector({dim}) NOT NULL,
    PRIMARY KEY (passage_id, position)
);
COMMENT ON TABLE policyqa.meta IS {schema_version};
INSERT INTO policyqa.meta (embedder_id, dim, user_words, average_length, max_idf, version)
VALUES ({embedder_id}, {dim}, '{{}}', 1, 0, 0);
"""

# rank-bm25's Okapi weight of each (term, passage), in index.bm25's order of operations, times the
# term's occurrences in the query, summed per passage. ``po.term = ANY`` has the planner read each
# term's postings from the covering primary key alone (an index-only scan); passages are joined
# only to filter.
_LEXICAL = """
SELECT passage_id, score FROM (
    SELECT po.passage_id, sum(
        q.occurrences * (t.idf * po.tf * (%(k1)s + 1) / (po.tf + %(k1)s * (1 - %(b)s + %(b)s * po.length / m.average_length)))
    ) AS score
    FROM policyqa.postings AS po
    JOIN policyqa.terms AS t USING (term)
    JOIN (SELECT term, count(*) AS occurrences FROM unnest(%(terms)s::text[]) AS term GROUP BY term) AS q USING (term)
    {join}
    CROSS JOIN policyqa.meta AS m
    WHERE po.term = ANY(%(terms)s::text[]) AND {where}
    GROUP BY po.passage_id
) AS scored
WHERE score > 0
ORDER BY score DESC, passage_id
LIMIT %(limit)s
"""
# The notice leg: the same Okapi weight with each notice taken as one document holding all its passages'
# terms (index.local builds the same BM25 in memory). A term's notice frequency is counted among the
# notices that hold it, as they are all in the join; negative idfs are floored as for passages.
_NOTICES = """
WITH q AS (SELECT term, count(*) AS occurrences FROM unnest(%(terms)s::text[]) AS term GROUP BY term),
f AS (
    SELECT p.doc_id, po.term, sum(po.tf)::float8 AS tf, count(*) OVER (PARTITION BY po.term)::float8 AS df
    FROM policyqa.postings AS po JOIN policyqa.passages AS p USING (passage_id)
    WHERE po.term = ANY(%(terms)s::text[])
    GROUP BY p.doc_id, po.term
),
w AS (
    SELECT f.*, ln(c.n - f.df + 0.5) - ln(f.df + 0.5) AS raw_idf
    FROM f CROSS JOIN (SELECT count(*)::float8 AS n FROM policyqa.documents) AS c
)
SELECT doc_id, score FROM (
    SELECT w.doc_id, sum(
        q.occurrences * (CASE WHEN w.raw_idf < 0 THEN %(epsilon)s * m.notice_mean_idf ELSE w.raw_idf END)
        * w.tf * (%(k1)s + 1) / (w.tf + %(k1)s * (1 - %(b)s + %(b)s * d.length / m.notice_average_length))
    ) AS score
    FROM w
    JOIN q USING (term)
    JOIN policyqa.documents AS d USING (doc_id)
    CROSS JOIN policyqa.meta AS m
    GROUP BY w.doc_id
) AS scored
WHERE score > 0
"""
_PASSAGES = """
SELECT p.passage_id, 1 - (p.embedding <=> %(vector)b) AS similarity
FROM policyqa.passages AS p
WHERE {where}
ORDER BY p.embedding <=> %(vector)b
LIMIT %(limit)s
"""
_SENTENCES = """
SELECT passage_id, max(1 - (embedding <=> %(vector)b))
FROM policyqa.sentences
WHERE passage_id = ANY(%(passage_ids)s)
GROUP BY passage_id
"""
# Corpus-wide statistics, recomputed by every ingest: idf = ln((N - df + 0.5) / (df + 0.5)), negative
# ones replaced by EPSILON times the mean of all (index.bm25), the average length, the largest idf.
_RECOMPUTE = (
    "DELETE FROM policyqa.terms",
    """INSERT INTO policyqa.terms (term, df, idf)
    SELECT term, df, ln(n - df + 0.5::float8) - ln(df + 0.5::float8)
    FROM (SELECT term, count(*) AS df FROM policyqa.postings GROUP BY term) AS counts,
         (SELECT count(*)::float8 AS n FROM policyqa.passages) AS corpus""",
    "UPDATE policyqa.terms SET idf = %(epsilon)s * (SELECT avg(idf) FROM policyqa.terms) WHERE idf < 0",
    """UPDATE policyqa.documents AS d
    SET length = coalesce((SELECT sum(p.length) FROM policyqa.passages AS p WHERE p.doc_id = d.doc_id), 0)""",
    """UPDATE policyqa.meta SET
        user_words = %(user_words)s,
        average_length = (SELECT CASE WHEN sum(length) > 0 THEN avg(length::float8) ELSE 1 END FROM policyqa.passages),
        max_idf = (SELECT greatest(max(idf), 0) FROM policyqa.terms),
        notice_average_length = (
            SELECT CASE WHEN sum(length) > 0 THEN avg(length::float8) ELSE 1 END FROM policyqa.documents
        ),
        notice_mean_idf = (
            SELECT coalesce(avg(ln(c.n - counts.df + 0.5) - ln(counts.df + 0.5)), 0)
            FROM (SELECT po.term, count(DISTINCT p.doc_id)::float8 AS df
                  FROM policyqa.postings AS po JOIN policyqa.passages AS p USING (passage_id)
                  GROUP BY po.term) AS counts,
                 (SELECT count(*)::float8 AS n FROM policyqa.documents) AS c
        ),
        version = version + 1""",
)

# Fresh statistics for the planner, and a visibility map that lets postings be read from their index alone.
_VACUUM = (
    "VACUUM (ANALYZE) policyqa.documents, policyqa.passages, policyqa.postings, policyqa.terms, policyqa.sentences"
)


class _State(NamedTuple):
    """What a search needs besides the tables, as of one version of the database."""

    version: int
    tokenizer: Tokenizer
    max_idf: float


class _Tokenized(NamedTuple):
    """A passage's BM25 length and term frequencies."""

    length: int
    frequencies: Counter[str]


class _VersionedCache:
    """What was read of one database version, by key, the least recently used dropped first: a version's rows
    never change, and a new version is a new key."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = fetch()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class PostgresSnapshot(Snapshot):
    """One read-only transaction of the database: every read of one question sees the same version."""

    def __init__(self, conn: psycopg.Connection[Any], state: _State, cache: _VersionedCache) -> None:
        self._conn = conn
        self._state = state
        self._cache = cache
        self.tokenizer = state.tokenizer
        self.version = state.version

    def rows(self, query: str | sql.Composable, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of ``query`` in this snapshot."""
        return self._conn.execute(query, params).fetchall()

    def lexical_run(self, query_terms: list[str], filters: Filters, limit: int) -> Scores:
        if not query_terms:
            return {}
        params = {"terms": query_terms, "k1": K1, "b": B, "limit": limit}
        query = sql.SQL(_LEXICAL).format(join=_join_passages(filters), where=_where(filters))
        return dict(self.rows(query, params | self._filter_params(filters)))

    def notice_run(self, query_terms: list[str]) -> Scores:
        if not query_terms:
            return {}
        return dict(self.rows(_NOTICES, {"terms": query_terms, "k1": K1, "b": B, "epsilon": EPSILON}))

    def passage_run(self, vector: np.ndarray, filters: Filters, limit: int) -> Scores:
        params = {"vector": vector, "limit": limit}
        return dict(self.rows(sql.SQL(_PASSAGES).format(where=_where(filters)), params | self._filter_params(filters)))

    def _filter_params(self, filters: Filters) -> dict[str, Any]:
        """The values ``_where`` reads: the filters', and the notices the identity filters keep (``doc_ids``)."""
        if not filters.on_notices:
            return filters._asdict()

        def fetch() -> list[tuple[str, Identity]]:
            rows = self.rows("SELECT doc_id, data -> 'identity' FROM policyqa.documents")
            return [(doc_id, Identity.from_dict(identity or {})) for doc_id, identity in rows]

        identities = self._cache.get((self._state.version, "identities"), fetch)
        return filters._asdict() | {"doc_ids": [doc_id for doc_id, identity in identities if filters.keeps(identity)]}

    def sentence_run(self, vector: np.ndarray, passage_ids: list[str]) -> Scores:
        return dict(self.rows(_SENTENCES, {"vector": vector, "passage_ids": passage_ids}))

    def passage_terms(self, passage_id: str) -> frozenset[str]:
        def fetch() -> frozenset[str]:
            rows = self.rows("SELECT term FROM policyqa.postings WHERE passage_id = %(id)s", {"id": passage_id})
            return frozenset(term for (term,) in rows)

        return self._cache.get((self._state.version, "terms", passage_id), fetch)

    def term_weight(self, term: str) -> float:
        def fetch() -> float:
            rows = self.rows("SELECT idf FROM policyqa.terms WHERE term = %(term)s", {"term": term})
            return rows[0][0] if rows else 0.0

        return self._cache.get((self._state.version, "idf", term), fetch) or self._state.max_idf

    def get_passage(self, passage_id: str) -> Passage | None:
        def fetch() -> Passage | None:
            rows = self.rows("SELECT data FROM policyqa.passages WHERE passage_id = %(id)s", {"id": passage_id})
            return Passage.from_dict(rows[0][0]) if rows else None

        return self._cache.get((self._state.version, "passage", passage_id), fetch)


class PostgresIndex(Index):
    """Passages held in PostgreSQL and read there: BM25 over postings, pgvector HNSW over vectors.

    Any number of processes may read one database while another ingests into it. Call
    ``close`` (or use it as a context manager) to release its connections.
    """

    def __init__(self, dsn: str, embedder: Embedder, pool_size: int = 8, embedding_cache: Path | None = None) -> None:
        """Connect to ``dsn``, creating the schema if missing (or bringing an older one up to date); refuse a
        database made for another embedder. Ingests embed through a cache in ``embedding_cache`` if given."""
        self.embedder = embedder
        self._passage_embedder = embedder if embedding_cache is None else CachedEmbedder(embedder, embedding_cache)
        self._dsn = dsn
        with psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            _ensure_schema(conn, embedder)
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            timeout=POOL_WAIT_SECONDS,
            reconnect_timeout=RECONNECT_SECONDS,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            configure=_configure_reader,
            # Each connection is tested as it is handed out, so those the database dropped are replaced at once.
            check=ConnectionPool.check_connection,
            open=True,
        )
        self._publish = threading.Lock()
        self._latest = _State(-1, Tokenizer(), 0.0)
        self._cache = _VersionedCache(_CACHE_SIZE)

    def check(self) -> None:
        with self.reading():
            pass

    def close(self) -> None:
        """Close every connection of this index."""
        self._pool.close()

    def __enter__(self) -> PostgresIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Reads: each in one snapshot of the database.

    @contextmanager
    def reading(self) -> Iterator[PostgresSnapshot]:
        """A read-only transaction on a pooled connection, as a snapshot; IndexUnavailableError if the database
        cannot be read now."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield PostgresSnapshot(conn, self._state_at(conn), self._cache)
        except (psycopg.OperationalError, PoolTimeout) as exc:  # down, restarting, or too slow
            raise IndexUnavailableError(f"the database cannot be read now ({type(exc).__name__}: {exc})") from exc

    def document_counts(self) -> list[tuple[Document, int]]:
        with self.reading() as snapshot:
            rows = snapshot.rows(
                "SELECT d.data, count(p.passage_id) FROM policyqa.documents AS d"
                " LEFT JOIN policyqa.passages AS p USING (doc_id) GROUP BY d.doc_id ORDER BY d.doc_id"
            )
        return [(Document.from_dict(data), count) for data, count in rows]

    def fingerprints(self) -> dict[str, str | None]:
        with self.reading() as snapshot:
            return dict(snapshot.rows("SELECT doc_id, fingerprint FROM policyqa.documents ORDER BY doc_id"))

    # Writes.

    def ingest(
        self,
        notices: Corpus | Iterable[Notice],
        remove: Iterable[str] = (),
        embedder: Embedder | None = None,
        progress: bool = False,
    ) -> None:
        """``Index.ingest``: the windows are embedded first (by the database's embedder in any case). One
        transaction then replaces the notices' rows, re-tokenizes every passage if the corpus's user words
        changed, recomputes the corpus-wide idfs and average length, and commits."""
        embedder = embedder or self._passage_embedder
        notices = notices_to_ingest(notices)
        doc_ids = [notice.document.doc_id for notice in notices]
        passages = [passage for notice in notices for passage in notice.passages]
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            _check_embedder(conn, embedder)  # before the embedding, which takes a while
            vectors = embed_clauses(embedder, passages, progress)
            passage_vectors = vectors.passages
            place = Counter[int]()
            sentences = []  # (passage id, place among its passage's windows, text, vector)
            for owner, text, vector in zip(
                vectors.window_owner.tolist(), vectors.windows, vectors.window_vectors, strict=True
            ):
                sentences.append((passages[owner].passage_id, place[owner], text, vector))
                place[owner] += 1
            register_vector(conn)
            with conn.transaction():
                conn.execute("SELECT FROM policyqa.meta FOR UPDATE")  # one ingest at a time
                # Flush the commit before the VACUUM below, even where commits are asynchronous: until then it
                # cannot mark the new postings all-visible, and searches read each one from the table too.
                conn.execute("SET LOCAL synchronous_commit = on")
                _check_embedder(conn, embedder)
                # With their passages, postings and sentences.
                conn.execute("DELETE FROM policyqa.documents WHERE doc_id = ANY(%s)", ([*doc_ids, *remove],))
                words, old_words = self._user_words(conn, notices)
                tokenizer = self._latest.tokenizer if self._latest.tokenizer.user_words == words else Tokenizer(words)
                if words != old_words:  # jieba may now cut the other notices' passages differently
                    self._retokenize(conn, tokenizer)
                tokens = {p.passage_id: _tokenize(tokenizer, p) for p in passages}
                _copy(
                    conn,
                    "documents (doc_id, user_words, data, fingerprint)",
                    ["text", "text[]", "jsonb", "text"],
                    (
                        (
                            n.document.doc_id,
                            corpus_words(n.passages),
                            Jsonb(n.document.to_dict()),
                            indexed_fingerprint(n.fingerprint),
                        )
                        for n in notices
                    ),
                )
                _copy(
                    conn,
                    "passages (passage_id, doc_id, section_path, length, data, embedding)",
                    ["text", "text", "text[]", "int4", "jsonb", "vector"],
                    (
                        (
                            p.passage_id,
                            p.doc_id,
                            list(p.section_path),
                            tokens[p.passage_id].length,
                            Jsonb(p.to_dict()),
                            v,
                        )
                        for p, v in zip(passages, passage_vectors, strict=True)
                    ),
                )
                _copy_postings(conn, tokens)
                _copy(
                    conn,
                    "sentences (passage_id, position, text, embedding)",
                    ["text", "int4", "text", "vector"],
                    sentences,
                )
                for statement in _RECOMPUTE:
                    conn.execute(statement, {"epsilon": EPSILON, "user_words": words})
            conn.execute(_VACUUM)

    # Internals.

    def _state_at(self, conn: psycopg.Connection[Any]) -> _State:
        """The state of the version this snapshot sees; a newer one than seen so far becomes the latest."""
        version, max_idf = conn.execute("SELECT version, max_idf FROM policyqa.meta").fetchone()
        latest = self._latest
        if version == latest.version:
            return latest
        with self._publish:  # one tokenizer built per version, however many threads see it first
            latest = self._latest
            if version == latest.version:
                return latest
            (words,) = conn.execute("SELECT user_words FROM policyqa.meta").fetchone()
            tokenizer = latest.tokenizer if latest.tokenizer.user_words == words else Tokenizer(words)
            state = _State(version, tokenizer, max_idf)
            if version > latest.version:
                self._latest = state
        return state

    @staticmethod
    def _user_words(conn: psycopg.Connection[Any], notices: list[Notice]) -> tuple[list[str], list[str]]:
        """The tokenizer's user words once ``notices`` are in (the other notices' and theirs), and before."""
        kept = conn.execute("SELECT DISTINCT unnest(user_words) FROM policyqa.documents").fetchall()
        words = {word for (word,) in kept}.union(*(corpus_words(notice.passages) for notice in notices))
        (old_words,) = conn.execute("SELECT user_words FROM policyqa.meta").fetchone()
        return sorted(words), old_words

    @staticmethod
    def _retokenize(conn: psycopg.Connection[Any], tokenizer: Tokenizer) -> None:
        """Rewrite the postings and lengths of every passage in the database with ``tokenizer``."""
        rows = conn.execute("SELECT data FROM policyqa.passages").fetchall()
        tokens = {data["passage_id"]: _tokenize(tokenizer, Passage.from_dict(data)) for (data,) in rows}
        conn.execute("DELETE FROM policyqa.postings")
        conn.execute(
            "UPDATE policyqa.passages AS p SET length = new.length"
            " FROM unnest(%s::text[], %s::int[]) AS new (passage_id, length)"
            " WHERE p.passage_id = new.passage_id AND p.length <> new.length",
            (list(tokens), [t.length for t in tokens.values()]),
        )
        _copy_postings(conn, tokens)


def _ensure_schema(conn: psycopg.Connection[Any], embedder: Embedder) -> None:
    """Create the extension, schema and tables if missing, or migrate an older schema; check its version,
    pgvector's and the embedder."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        if conn.execute("SELECT to_regclass('policyqa.meta')").fetchone() == (None,):
            schema = sql.SQL(_SCHEMA).format(
                dim=sql.Literal(embedder.dim),
                embedder_id=sql.Literal(embedder.id),
                schema_version=sql.Literal(f"policyqa schema {SCHEMA_VERSION}"),
            )
            conn.execute(schema)
        (made_by,) = conn.execute("SELECT obj_description('policyqa.meta'::regclass, 'pg_class')").fetchone()
        made_by = _migrate(conn, made_by)
    if made_by != f"policyqa schema {SCHEMA_VERSION}":
        raise IndexMismatchError(
            f"the database's policyqa schema was made by another version of policyqa ({made_by or 'schema 1'}, "
            f"not schema {SCHEMA_VERSION}): drop it (DROP SCHEMA policyqa CASCADE) and run `policyqa index` again"
        )
    (version,) = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if tuple(int(part) for part in version.split(".")[:3]) < MIN_PGVECTOR:
        raise RuntimeError(f"pgvector {version} is too old: {'.'.join(map(str, MIN_PGVECTOR))} or later is needed")
    _check_embedder(conn, embedder)


def _migrate(conn: psycopg.Connection[Any], made_by: str | None) -> str | None:
    """Bring a schema that ``_MIGRATIONS`` knows up to ``SCHEMA_VERSION``, in the caller's transaction;
    give the name of the version it then has."""
    found = re.fullmatch(r"policyqa schema (\d+)", made_by or "")
    if found is None:
        return made_by
    version = int(found.group(1))
    while version in _MIGRATIONS:
        conn.execute(_MIGRATIONS[version])
        version += 1
        conn.execute(sql.SQL("COMMENT ON TABLE policyqa.meta IS {}").format(sql.Literal(f"policyqa schema {version}")))
    return f"policyqa schema {version}"


def _check_embedder(conn: psycopg.Connection[Any], embedder: Embedder) -> None:
    """Refuse an embedder other than the one whose vectors the database holds."""
    recorded, dim = conn.execute("SELECT embedder_id, dim FROM policyqa.meta").fetchone()
    if recorded != embedder.id:
        raise IndexMismatchError(
            f"the database holds vectors of embedder {recorded} ({dim} dimensions), not of {embedder.id}"
            f" ({embedder.dim} dimensions): use that embedder, or another database"
        )


def _configure_reader(conn: psycopg.Connection[Any]) -> None:
    """Set up a pooled connection: vectors as numpy arrays, HNSW walks deep enough, snapshot reads."""
    register_vector(conn)
    conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(EF_SEARCH)))
    # With a filter, keep walking the graph until the LIMIT is filled, in exact distance order.
    conn.execute("SET hnsw.iterative_scan = strict_order")
    # Plan each search for its own terms: a generic plan, blind to how many postings they have, scans them all.
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(STATEMENT_TIMEOUT_MS)))
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def _join_passages(filters: Filters) -> sql.Composable:
    """The join that gives ``_where`` its passages ``p``, needed only to filter."""
    return sql.SQL("JOIN policyqa.passages AS p USING (passage_id)" if filters else "")


def _where(filters: Filters) -> sql.Composable:
    """The SQL condition on passages ``p`` that ``filters`` sets (its values as ``doc_id`` and ``section`` params, the
    notices its identity filters keep as ``doc_ids``)."""
    conditions = [sql.SQL("TRUE")]
    if "\x00" in (filters.doc_id or "") + (filters.section or ""):
        conditions.append(sql.SQL("FALSE"))  # no text in PostgreSQL holds a NUL, nor can be compared with one
    else:
        if filters.doc_id is not None:
            conditions.append(sql.SQL("p.doc_id = %(doc_id)s"))
        if filters.section is not None:
            conditions.append(
                sql.SQL("EXISTS (SELECT FROM unnest(p.section_path) AS heading WHERE strpos(heading, %(section)s) > 0)")
            )
        if filters.on_notices:
            conditions.append(sql.SQL("p.doc_id = ANY(%(doc_ids)s)"))
    return sql.SQL(" AND ").join(conditions)


def _tokenize(tokenizer: Tokenizer, passage: Passage) -> _Tokenized:
    tokens = tokenizer.tokenize(lexical_text(passage))
    return _Tokenized(len(tokens), Counter(tokens))


def _copy(conn: psycopg.Connection[Any], table: str, types: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Bulk-load ``rows`` into ``policyqa.<table>`` (``table`` names its columns too)."""
    with conn.cursor().copy(f"COPY policyqa.{table} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _copy_postings(conn: psycopg.Connection[Any], tokens: dict[str, _Tokenized]) -> None:
    rows = ((term, passage_id, tf, t.length) for passage_id, t in tokens.items() for term, tf in t.frequencies.items())
    _copy(conn, "postings (term, passage_id, tf, length)", ["text", "text", "int4", "int4"], rows)
