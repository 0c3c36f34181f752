"""/api/v1/documents: issue, correct, revoke and download official PDF documents (公文).

Thin: `domain.documents.service` numbers, renders, stores and audits. The public verification
(no sign-in, `domain.documents.verification`) has its page in `web.verify` and its JSON twin for
banks' systems here, under /api/v1/verify (outside the web pages' CSRF check, which a system
posting a file cannot pass). `router` carries both parts of this face.
"""
from datetime import datetime
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from domain.documents import service as documents
from domain.documents.models import KIND_NAMES_ZH, KINDS, Document
from domain.documents.render import verify_url
from domain.documents.verification import Verdict
from domain.users.models import User
from httpkit import verification
from httpkit.ids import RowId
from httpkit.session import TransactionalRoute, get_session
from httpkit.problems import PDF_RESPONSE

DocumentKind = Literal[KINDS]  # type: ignore[valid-type]

api = APIRouter(prefix="/api/v1/documents", tags=["documents 公文"], route_class=TransactionalRoute)


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: str = Field(description="措施/事项, e.g. 暂停新开借记卡")
    unit: str | None = Field(None, description="责任单位")
    deadline: str | None = Field(None, description="时限, as printed, e.g. 2026年11月28日前")


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "kind": "reverse_audit_order", "addressee": "中国工商银行荆州分行",
        "title": "关于对工商银行江陵支行开展涉诈开户倒查的通知",
        "paragraphs": ["你行江陵支行本季度新开借记卡中有27张涉及电信网络诈骗案件，请立即组织倒查。"],
        "measures": [{"measure": "暂停江陵支行新开借记卡业务", "unit": "工商银行荆州分行", "deadline": "2026年11月24日前"}],
        "cc": ["荆州市公安局"]}})

    kind: DocumentKind
    addressee: str = Field(description="主送机关")
    title: str
    paragraphs: list[str] = Field(description="正文, one string per paragraph")
    measures: list[MeasureIn] = Field(default_factory=list, description="措施及时限 table rows")
    cc: list[str] | None = Field(None, description="抄送; omitted: the policy's default list")
    order_id: RowId | None = None
    idempotency_key: str | None = Field(None, max_length=120, description=(
        "send the same key again (a retry) and get the first document back instead of a second number"))

    def to_domain(self) -> documents.DocumentIn:
        return documents.DocumentIn(
            kind=self.kind, addressee=self.addressee, title=self.title, paragraphs=list(self.paragraphs),
            measures=[documents.MeasureRow(m.measure, m.unit, m.deadline) for m in self.measures],
            cc=None if self.cc is None else list(self.cc), order_id=self.order_id,
            idempotency_key=self.idempotency_key)


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


class DocumentOut(BaseModel):
    id: int
    kind: str
    kind_name: str
    number: str
    version: int
    supersedes_id: int | None
    status: str
    addressee: str
    title: str
    issued_at: datetime
    issued_by: str
    order_id: int | None
    sha256: str
    verification_code: str
    verify_url: str
    pdf_url: str

    @classmethod
    def of(cls, doc: Document) -> "DocumentOut":
        return cls(id=doc.id, kind=doc.kind, kind_name=KIND_NAMES_ZH[doc.kind], number=doc.number,
                   version=doc.version, supersedes_id=doc.supersedes_id, status=doc.status,
                   addressee=doc.addressee, title=doc.title, issued_at=doc.issued_at, issued_by=doc.issued_by,
                   order_id=doc.order_id, sha256=doc.sha256, verification_code=doc.verification_code,
                   verify_url=verify_url(doc.verification_code), pdf_url=f"/api/v1/documents/{doc.id}/pdf")


@api.post("", status_code=status.HTTP_201_CREATED, response_model=DocumentOut)
def issue_document(body: DocumentCreate, session: Session = Depends(get_session),
                   user: User = Depends(current_user)) -> DocumentOut:
    """Number (gap-free per code and year), render and store a document. Office and admin only."""
    doc = documents.issue(session=session, actor=user, document_in=body.to_domain())
    session.commit()
    return DocumentOut.of(doc)


@api.get("/{document_id}", response_model=DocumentOut)
def get_document(document_id: RowId, session: Session = Depends(get_session),
                 user: User = Depends(current_user)) -> DocumentOut:
    return DocumentOut.of(documents.get(session=session, actor=user, document_id=document_id))


@api.get("/{document_id}/pdf", response_class=Response, responses=PDF_RESPONSE)
def document_pdf(document_id: RowId, session: Session = Depends(get_session),
                 user: User = Depends(current_user)) -> Response:
    """The PDF (office, admin, auditor). Its SHA-256 is the one the verification page checks."""
    doc, data = documents.pdf_bytes(session=session, actor=user, document_id=document_id)
    filename = f"{doc.number}-v{doc.version}.pdf"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"document-{doc.id}-v{doc.version}.pdf\"; "
                               f"filename*=UTF-8''{quote(filename)}",
        "X-Content-SHA256": doc.sha256})


@api.post("/{document_id}/corrections", status_code=status.HTTP_201_CREATED, response_model=DocumentOut)
def correct_document(document_id: RowId, body: DocumentCreate, session: Session = Depends(get_session),
                     user: User = Depends(current_user)) -> DocumentOut:
    """Issue a corrected version under the same number; the corrected version becomes superseded."""
    doc = documents.reissue(session=session, actor=user, document_id=document_id, correction=body.to_domain())
    session.commit()
    return DocumentOut.of(doc)


@api.post("/{document_id}/revoke", response_model=DocumentOut)
def revoke_document(document_id: RowId, body: RevokeBody, session: Session = Depends(get_session),
                    user: User = Depends(current_user)) -> DocumentOut:
    doc = documents.revoke(session=session, actor=user, document_id=document_id, reason=body.reason)
    session.commit()
    return DocumentOut.of(doc)


public = APIRouter(prefix="/api/v1/verify", tags=["verification 核验"])


_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "the PDF to check"}}}}}}}


def _json(verdict: Verdict, **found) -> JSONResponse:
    if verdict.message:  # refused, or too many checks from this client
        headers = {"Retry-After": str(verdict.retry_after)} if verdict.retry_after else None
        return JSONResponse({"detail": verdict.message}, status_code=verdict.status, headers=headers)
    return JSONResponse({**found, **(verdict.doc or {})}, status_code=verdict.status)


@public.post("", openapi_extra=_UPLOAD_BODY)
async def verify_upload_json(request: Request) -> Response:
    """Public, no sign-in, rate-limited: is this PDF (multipart field `file`) one we issued?"""
    verdict = await verification.check_upload(request)
    return _json(verdict, genuine=verdict.result == "genuine")


@public.get("/{code}", responses={404: {"description": "no document has this code: {\"found\": false}",
                                        "content": {"application/json": {"schema": {"type": "object"}}}}})
async def verify_code_json(code: str, request: Request) -> Response:
    """Public, no sign-in, rate-limited: what the verification code stands for."""
    verdict = await verification.lookup_code(request, code)
    return _json(verdict, found=verdict.result == "found")


router = APIRouter()
router.include_router(api)
router.include_router(public)
