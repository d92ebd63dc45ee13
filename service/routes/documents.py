"""Browse what is indexed: the notices, and any passage by its id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from index import Filters
from service.deps import API_KEY_SCHEME, IndexDep
from service.errors import API_ERRORS, NotFound
from service.schemas import DocumentList, DocumentOut, ErrorResponse, NoticeFilters, PassageOut

router = APIRouter(prefix="/v1", tags=["documents"], responses=API_ERRORS, dependencies=[API_KEY_SCHEME])


@router.get("/documents", response_model=DocumentList, summary="The indexed notices, or those the filters keep")
def list_documents(filters: Annotated[NoticeFilters, Query()], index: IndexDep) -> DocumentList:
    keep = Filters(**filters.notice_filters())
    return DocumentList(
        documents=[
            DocumentOut.from_document(document, count)
            for document, count in index.document_counts()
            if keep.keeps(document.identity)
        ]
    )


@router.get(
    "/passages/{passage_id:path}",
    response_model=PassageOut,
    responses={404: {"model": ErrorResponse}},
    summary="One passage by its id",
)
def get_passage(passage_id: str, index: IndexDep) -> PassageOut:
    passage = index.get_passage(passage_id)
    if passage is None:
        raise NotFound(f"no passage with id {passage_id!r}")
    return PassageOut.from_passage(passage)
