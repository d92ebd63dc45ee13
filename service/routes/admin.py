"""The admin API: add, replace and remove notices, list them, re-read the corpus folder. On only when
POLICYQA_ADMIN_KEY is set, and then behind it (``X-Admin-Key``, checked by KeyGuard before a body is read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile

from corpus import NoticeFileError
from corpus.library import UploadNameError, upload_name
from index import IndexBuildError
from index.library import add_notice, library_status, remove_notice
from service.deps import ADMIN_KEY_SCHEME, IndexDep, StateDep
from service.errors import API_ERRORS, APIError, NotFound
from service.schemas import AddedNotice, DocumentOut, ErrorResponse, Library, LibraryNotice, SyncResult, rejected_files

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    responses={**API_ERRORS, 401: {"model": ErrorResponse, "description": "X-Admin-Key missing or wrong"}},
    dependencies=[ADMIN_KEY_SCHEME],
)


class NotANotice(APIError):
    status, code = 422, "not_a_notice"


class Conflict(APIError):
    status, code = 409, "conflict"


@router.post(
    "/notices",
    status_code=201,
    response_model=AddedNotice,
    responses={409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="Add a notice file, or replace the notice with its id",
)
def add(
    file: UploadFile,
    state: StateDep,
    index: IndexDep,
    source_url: Annotated[str | None, Form(max_length=2000, description="Where the public can read it.")] = None,
) -> AddedNotice:
    """Upload a .txt, .html, .docx or .pdf notice as the multipart field ``file``. It is read and indexed, then
    put in the corpus folder under its own name, replacing the notice of the same id (its name without the
    suffix) in any format. A file that is not a usable notice is refused (422, with why) and changes nothing."""
    try:
        name = upload_name(file.filename or "")
        with state.writing:
            notice = add_notice(index, state.settings.corpus_dir, name, file.file.read(), source_url)
    except (UploadNameError, NoticeFileError) as exc:
        raise NotANotice(str(exc)) from None
    return AddedNotice(
        **DocumentOut.from_document(notice.document, len(notice.passages)).model_dump(),
        file=name,
        visible_everywhere_within=state.settings.reload_interval if index.mirrors_corpus else 0.0,
    )


@router.delete(
    "/notices/{doc_id:path}",
    status_code=204,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    summary="Remove a notice from the index and its file from the corpus folder",
)
def remove(doc_id: str, state: StateDep, index: IndexDep) -> None:
    with state.writing:
        try:
            removed = remove_notice(index, state.settings.corpus_dir, doc_id)
        except IndexBuildError as exc:  # the last notice of a local index
            raise Conflict(f"{doc_id} not removed: {exc}") from None
    if not removed:
        raise NotFound(f"no notice with id {doc_id!r} in the index or the corpus folder")


@router.get("/notices", response_model=Library, summary="The notices of the corpus folder and the index")
def list_notices(state: StateDep, index: IndexDep) -> Library:
    indexed = {document.doc_id: (document.title, count) for document, count in index.document_counts()}
    notices = [
        LibraryNotice(
            doc_id=notice.doc_id,
            file=notice.file,
            status=notice.status,
            title=indexed.get(notice.doc_id, (None, 0))[0],
            passage_count=indexed.get(notice.doc_id, (None, 0))[1],
        )
        for notice in library_status(index, state.settings.corpus_dir)
    ]
    return Library(notices=notices, rejected=rejected_files(state.rejected()))


@router.post("/sync", response_model=SyncResult, summary="Re-read the corpus folder, as policyqa index does")
def sync(state: StateDep, index: IndexDep, prune: bool = False) -> SyncResult:
    """Index the new and changed notice files, and remove the notices whose files are gone (from a shared
    database only with ``prune``). Every usable file is indexed; each file left out is named in ``rejected``.
    The index answers from the result when the call returns."""
    with state.writing:
        report = state.sync(prune)
    return SyncResult(
        action=report.action,
        notices=len(index.document_counts()),
        seconds=round(report.seconds, 3),
        rejected=rejected_files(state.rejected()),
    )
