"""/api/v1/orders: issue orders, a unit's inbox, acknowledge, report back with evidence, review."""
from datetime import datetime

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from api.fields import Amount
from domain.money import from_fen
from domain.orders import documents as order_documents
from domain.orders import evidence as evidence_service
from domain.orders import reveal as reveal_service
from domain.orders import service as orders
from domain.orders.models import Order
from domain.users.models import User
from httpkit.ids import MAX_ID, RowId
from httpkit.problems import EVIDENCE_RESPONSE, PDF_RESPONSE
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1", tags=["orders 指令"], route_class=TransactionalRoute)
MAX_UPLOAD_READ = 210 * 1024 * 1024  # hard ceiling before the policy's own limit is checked


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="order kind from policies/orders.yaml, e.g. supervision")
    addressee_unit_id: RowId
    title: str
    instructions: str = ""
    case_id: RowId | None = None


class OrderOut(BaseModel):
    id: int
    kind: str
    title: str
    instructions: str
    addressee_unit_id: int
    case_id: int | None
    process_id: int | None
    status: str
    issued_at: datetime
    acknowledge_by: datetime
    complete_by: datetime
    acknowledged_at: datetime | None
    reported_at: datetime | None
    report_text: str | None
    reported_amount_cny: str | None
    review_comment: str | None
    cancelled_reason: str | None
    overdue_acknowledge: bool
    overdue_report: bool
    reminders: int
    escalated: bool
    document_id: int | None
    outcome: str | None = None  # the reported outcome, for orders that list outcomes

    @classmethod
    def of(cls, order: Order) -> "OrderOut":
        data = order.model_dump()
        amount = order.reported_amount_fen
        return cls(**data, reported_amount_cny=str(from_fen(amount)) if amount is not None else None,
                   outcome=order.details_dict.get("outcome"))


class OrderPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[OrderOut]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    amount_cny: Amount | None = None
    outcome: str | None = Field(default=None, max_length=40, description="for orders that list outcomes "
                                "(内鬼移送, 劝阻): one of them, e.g. administrative_penalty, dissuaded")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000)


class EvidenceOut(BaseModel):
    id: int
    order_id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class NoticeOut(BaseModel):
    id: int
    order_id: int | None
    kind: str
    message: str
    created_at: datetime


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=OrderOut)
def issue_order(body: OrderCreate, session: Session = Depends(get_session), user: User = Depends(current_user)):
    order = orders.issue_by_office(session=session, actor=user, **body.model_dump())
    session.commit()
    return OrderOut.of(order)


@router.get("/orders", response_model=OrderPage)
def list_orders(status: str | None = Query(None, max_length=16), kind: str | None = Query(None, max_length=40),
                case_id: RowId | None = None, overdue: bool | None = None, escalated: bool | None = None,
                open_only: bool = False, offset: int = Query(0, ge=0, le=MAX_ID),
                limit: int = Query(50, ge=1, le=200),
                session: Session = Depends(get_session), user: User = Depends(current_user)):
    """The caller's orders: all for the office; for a liaison only their unit's and its children's."""
    rows, total = orders.list_orders(session=session, actor=user, status=status, kind=kind, case_id=case_id,
                                     overdue=overdue, escalated=escalated, open_only=open_only,
                                     offset=offset, limit=limit)
    return OrderPage(total=total, offset=offset, limit=limit, items=[OrderOut.of(o) for o in rows])


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return OrderOut.of(orders.get(session=session, actor=user, order_id=order_id))


def _act(session: Session, order: Order) -> OrderOut:
    session.commit()
    return OrderOut.of(order)


@router.get("/orders/{order_id}/pdf", response_class=Response, responses=PDF_RESPONSE)
def order_pdf(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """The official document of the order, for whoever may see the order."""
    doc, data = order_documents.pdf_for_order(session=session, actor=user, order_id=order_id)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{_quote(doc.number)}.pdf", "X-Content-Type-Options": "nosniff"})


@router.post("/orders/{order_id}/acknowledge", response_model=OrderOut)
def acknowledge(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """签收, in one call; a second acknowledgement gets 409."""
    return _act(session, orders.acknowledge(session=session, actor=user, order_id=order_id))


class RevealedOut(BaseModel):
    field: str = Field(description="id_number | phone")
    label_zh: str
    label_en: str
    value: str


@router.post("/orders/{order_id}/reveal", response_model=RevealedOut)
def reveal(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)) -> RevealedOut:
    """The addressee's liaison: the person's full ID number or phone the order shows masked, to act
    on it. Each asking is audited; 409 once the order is over or when nothing is masked."""
    return RevealedOut(**reveal_service.reveal(session=session, actor=user, order_id=order_id))


@router.post("/orders/{order_id}/start", response_model=OrderOut)
def start(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return _act(session, orders.start_work(session=session, actor=user, order_id=order_id))


@router.post("/orders/{order_id}/report", response_model=OrderOut)
def report(order_id: RowId, body: ReportIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return _act(session, orders.report(session=session, actor=user, order_id=order_id, text=body.text,
                                       amount_cny=body.amount_cny, outcome=body.outcome))


@router.post("/orders/{order_id}/accept", response_model=OrderOut)
def accept(order_id: RowId, body: ReviewIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return _act(session, orders.accept(session=session, actor=user, order_id=order_id, comment=body.comment))


@router.post("/orders/{order_id}/return", response_model=OrderOut)
def return_for_rework(order_id: RowId, body: ReviewIn, session: Session = Depends(get_session),
                      user: User = Depends(current_user)):
    return _act(session, orders.return_for_rework(session=session, actor=user, order_id=order_id,
                                                  comment=body.comment or ""))


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
def cancel(order_id: RowId, body: CancelIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return _act(session, orders.cancel(session=session, actor=user, order_id=order_id, reason=body.reason))


@router.post("/orders/{order_id}/evidence", status_code=status.HTTP_201_CREATED, response_model=EvidenceOut)
async def upload_evidence(order_id: RowId, file: UploadFile = File(...), session: Session = Depends(get_session),
                          user: User = Depends(current_user)):
    data = await file.read(MAX_UPLOAD_READ + 1)
    item = evidence_service.attach(session=session, actor=user, order_id=order_id, filename=file.filename or "",
                                   content_type=file.content_type or "", data=data)
    session.commit()
    return EvidenceOut.model_validate(item, from_attributes=True)


@router.get("/orders/{order_id}/evidence", response_model=list[EvidenceOut])
def list_evidence(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return [EvidenceOut.model_validate(e, from_attributes=True)
            for e in evidence_service.list_for_order(session=session, actor=user, order_id=order_id)]


@router.get("/evidence/{evidence_id}", response_class=Response, responses=EVIDENCE_RESPONSE)
def download_evidence(evidence_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    item, data = evidence_service.read(session=session, actor=user, evidence_id=evidence_id)
    return Response(data, media_type=item.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(item.filename)}",
        "X-Content-Type-Options": "nosniff"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get("/notices", response_model=list[NoticeOut])
def my_notices(limit: int = Query(50, ge=1, le=200), session: Session = Depends(get_session),
               user: User = Depends(current_user)):
    """Reminders, escalations and outcomes addressed to the caller's unit."""
    return [NoticeOut.model_validate(n, from_attributes=True)
            for n in orders.notices_for(session=session, actor=user, limit=limit)]
