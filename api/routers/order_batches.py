"""/api/v1/orders/acknowledgements and /acceptances: many orders at once, each its own transition
(domain/orders/bulk.py). The answer lists every order with what happened and, if refused, why; it
is 200 even when some were refused (the caller reads the items), 4xx only for the request itself."""
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from domain.orders import bulk
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1", tags=["orders 指令"], route_class=TransactionalRoute)


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_ids: list[RowId] = Field(min_length=1, max_length=bulk.MAX_ITEMS)


class AcceptBatch(Batch):
    comment: str | None = Field(default=None, max_length=2000)


class ItemOut(BaseModel):
    order_id: int
    ok: bool
    status: str | None = Field(default=None, description="the order's status after the action, when it went through")
    code: str | None = Field(default=None, description="why it was refused, e.g. bad_transition, order_not_found")
    message_zh: str | None = None
    message_en: str | None = None


class BatchOut(BaseModel):
    succeeded: int
    failed: int
    items: list[ItemOut]


def _out(session: Session, result: bulk.BulkResult) -> BatchOut:
    session.commit()
    return BatchOut(succeeded=len(result.succeeded), failed=len(result.failed), items=[
        ItemOut(order_id=i.order_id, ok=i.ok, status=i.status, code=i.code, message_zh=i.zh, message_en=i.en)
        for i in result.items])


@router.post("/orders/acknowledgements", response_model=BatchOut)
def acknowledge_many(batch: Batch, session: Session = Depends(get_session),
                     user: User = Depends(current_user)) -> BatchOut:
    """签收 several orders of your unit at once; each is acknowledged (and audited) on its own."""
    return _out(session, bulk.acknowledge_many(session=session, actor=user, order_ids=batch.order_ids))


@router.post("/orders/acceptances", response_model=BatchOut)
def accept_many(batch: AcceptBatch, session: Session = Depends(get_session),
                user: User = Depends(current_user)) -> BatchOut:
    """验收通过 several reported orders at once (the office); each is accepted (and audited) on its own."""
    return _out(session, bulk.accept_many(session=session, actor=user, order_ids=batch.order_ids,
                                          comment=batch.comment))
