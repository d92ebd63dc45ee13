"""Browse what is indexed: the notices, and any passage by its id."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import API_KEY_SCHEME, IndexDep
from service.errors import API_ERRORS, NotFound
from service.schemas import DocumentList, DocumentOut, ErrorResponse, PassageOut

router = APIRouter(prefix="/v1", tags=["documents"], responses=API_ERRORS, dependencies=[API_KEY_SCHEME])


@router.get("/documents", response_model=DocumentList, summary="The indexed notices")
def list_documents(index: IndexDep) -> DocumentList:
    return DocumentList(documents=[DocumentOut.from_document(doc, count) for doc, count in index.document_counts()])


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
