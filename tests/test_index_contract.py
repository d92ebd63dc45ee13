"""The ``Index`` contract, run the same on both backends: a local index directory and a real PostgreSQL.

Opening an index with building allowed picks up new and changed notices on both; writes are whole;
a second handle on the same index (another process) sees them.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus import Corpus, Notice, NoticeFileError, load_notice
from index import DirectoryIndex, Filters, Index, IndexBuildError, IndexConfig, open_index, tokenizer
from index.clauses import indexed_fingerprint
from index.embedders import Embedder
from tests.conftest import DOC_ID, FIXTURES, search
from tests.test_index_store import CountingEmbedder
from tests.test_jurisdiction import NOTICES as RENT_NOTICES

EXPORT = FIXTURES / "export-tax-rebate-service.txt"
EXPORT_ID = EXPORT.stem
EXPORT_QUERY = "出口退税平均多久能办完"


@pytest.fixture(params=["local", pytest.param("postgres", marks=pytest.mark.postgres)])
def config(request: pytest.FixtureRequest, corpus_copy: Path, seeded_index_dir: Path) -> IndexConfig:
    """The default notice's corpus, indexed on each backend; the embedding cache already holds its vectors."""
    if request.param == "local":
        return IndexConfig(corpus_copy, seeded_index_dir)
    dsn = request.getfixturevalue("pg_server").create_database(f"contract_{uuid.uuid4().hex[:12]}")
    return IndexConfig(corpus_copy, seeded_index_dir, backend="postgres", database_url=dsn)


def notice_ids(index: Index) -> list[str]:
    return sorted(document.doc_id for document, _ in index.document_counts())


def test_opening_picks_up_new_and_changed_notices_on_either_backend(config: IndexConfig, embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    index, report = open_index(config, embedder=counting)
    index.close()
    assert report.action == "built" and counting.passages_embedded == 0  # from the seeded cache

    index, report = open_index(config, embedder=counting)
    index.close()
    assert report.action == "loaded"  # nothing changed: nothing parsed, embedded or written

    shutil.copy(EXPORT, config.corpus_dir)
    index, report = open_index(config, embedder=counting)
    assert report.action == "built"
    assert notice_ids(index) == [EXPORT_ID, DOC_ID]
    assert search(index, EXPORT_QUERY, top_k=1).hits[0].passage.doc_id == EXPORT_ID
    embedded_for_export = counting.passages_embedded
    assert embedded_for_export > 0
    index.close()

    copied = config.corpus_dir / EXPORT.name
    copied.write_text(copied.read_text(encoding="utf-8").replace("5个工作日", "2个工作日"), encoding="utf-8")
    index, report = open_index(config, embedder=counting)
    assert report.action == "built"
    assert "2个工作日以内" in search(index, EXPORT_QUERY, top_k=1).hits[0].passage.text
    assert 0 < counting.passages_embedded - embedded_for_export < embedded_for_export  # the changed clause alone
    assert index.fingerprints()[EXPORT_ID] == indexed_fingerprint(load_notice(copied).fingerprint)
    index.close()

    # A notice whose file is gone leaves a local index (it holds exactly the corpus); a database keeps it
    # until asked to prune (another corpus may share it).
    copied.unlink()
    index, report = open_index(config, embedder=counting)
    assert notice_ids(index) == ([EXPORT_ID, DOC_ID] if config.backend == "postgres" else [DOC_ID])
    index.close()
    index, report = open_index(config, embedder=counting, build=True, prune=True)
    assert notice_ids(index) == [DOC_ID]
    index.close()


def test_ingest_and_remove_are_whole_writes_that_another_handle_sees(config: IndexConfig, embedder: Embedder) -> None:
    index, _ = open_index(config, embedder=embedder)
    other, _ = open_index(config, embedder=embedder, build=False)  # another process serving the same index
    export = load_notice(EXPORT)
    try:
        index.ingest([export])
        assert search(index, EXPORT_QUERY, top_k=1).hits[0].passage.doc_id == EXPORT_ID
        assert index.fingerprints()[EXPORT_ID] == indexed_fingerprint(export.fingerprint)
        # A local index switches to the new build when refreshed; a database's reads see it at once.
        assert other.refresh() == isinstance(other, DirectoryIndex)
        assert notice_ids(other) == [EXPORT_ID, DOC_ID]

        before = (index.document_counts(), index.fingerprints())
        bad = NoticeFileError(config.corpus_dir / "broken.txt", "is not text")
        with pytest.raises(IndexBuildError, match="1 file"):
            index.ingest(Corpus([export], [bad]))
        with pytest.raises(ValueError, match=f"notices given twice: {EXPORT_ID}"):
            index.ingest([export, export])
        assert (index.document_counts(), index.fingerprints()) == before

        index.remove([EXPORT_ID, "never-indexed"])
        assert notice_ids(index) == [DOC_ID]
        assert all(hit.passage.doc_id == DOC_ID for hit in search(index, EXPORT_QUERY, top_k=10).hits)
        other.refresh()
        assert notice_ids(other) == [DOC_ID]
        if isinstance(index, DirectoryIndex):
            with pytest.raises(IndexBuildError, match="it would hold no notice"):
                index.remove([DOC_ID])
            assert notice_ids(index) == [DOC_ID]
    finally:
        index.close()
        other.close()


@pytest.fixture
def extra_stop_word(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """片区 made a stop word, as an edit of index/stopwords.txt would; the real list again afterwards."""
    edited = tmp_path / "stopwords.txt"
    edited.write_text(tokenizer._STOPWORDS_FILE.read_text(encoding="utf-8") + "\n片区\n", encoding="utf-8")
    monkeypatch.setattr(tokenizer, "_STOPWORDS_FILE", edited)
    tokenizer._stopwords.cache_clear()
    tokenizer.tokenizer_version.cache_clear()
    yield "片区"
    monkeypatch.undo()
    tokenizer._stopwords.cache_clear()
    tokenizer.tokenizer_version.cache_clear()


def test_a_change_of_stop_words_indexes_every_notice_again_on_either_backend(
    config: IndexConfig, embedder: Embedder, request: pytest.FixtureRequest
) -> None:
    index, _ = open_index(config, embedder=embedder)
    with index.reading() as snapshot:
        zone_clause = search(index, "钦州港片区", top_k=1, mode="bm25").hits[0].passage.passage_id
        assert "片区" in snapshot.passage_terms(zone_clause)
    before = index.fingerprints()
    index.close()

    stop_word = request.getfixturevalue("extra_stop_word")
    index, report = open_index(config, embedder=embedder)
    try:
        assert report.action == "built"  # nothing in the corpus changed but how its text is cut into terms
        assert index.fingerprints() != before
        with index.reading() as snapshot:
            assert stop_word not in snapshot.passage_terms(zone_clause)
            assert snapshot.lexical_run([stop_word], Filters(), 10) == {}
    finally:
        index.close()


def test_notices_identities_and_the_filters_on_them_agree_on_either_backend(
    config: IndexConfig, embedder: Embedder
) -> None:
    for doc_id, text in RENT_NOTICES.items():
        (config.corpus_dir / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    index, _ = open_index(config, embedder=embedder)
    try:
        stored = {document.doc_id: document.identity for document, _ in index.document_counts()}
        assert stored == {doc_id: notice.document.identity for doc_id, notice in _parsed(config.corpus_dir).items()}

        def found(**filters: str) -> set[str]:
            hits = search(index, "房租能减免吗", top_k=10, **filters).hits
            return {hit.passage.doc_id for hit in hits}

        assert found(region="福建") == {"sanming-rent"}  # 三明 lies within 福建
        assert found(region="广西壮族自治区") == {DOC_ID}
        assert found(issuer="国务院") == {"national-rent"}
        assert found(kind="措施") == {"sanming-rent", "beijing-rent"}
        assert found(date_from="2020-02-07", date_to="2020-02-15") == {"sanming-rent"}
        assert found(region="北京", kind="通知") == set()
    finally:
        index.close()


def _parsed(corpus_dir: Path) -> dict[str, Notice]:
    return {path.stem: load_notice(path) for path in sorted(corpus_dir.iterdir())}


def test_a_snapshots_version_changes_with_each_write_and_only_then(config: IndexConfig, embedder: Embedder) -> None:
    index, _ = open_index(config, embedder=embedder)
    try:
        with index.reading() as first, index.reading() as again:
            assert first.version == again.version
        index.ingest([load_notice(EXPORT)])
        with index.reading() as written:
            assert written.version != first.version
        index.remove([EXPORT_ID])
        with index.reading() as removed:
            assert removed.version not in (first.version, written.version)
    finally:
        index.close()
