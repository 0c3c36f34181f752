"""/api/v1/processes: follow the cross-department processes, and record the fraud accounts that
start reverse audits. The routes that start each kind and act on it are derived from the registry
(api/routers/process_kinds.py)."""
from datetime import datetime

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from api.routers.orders import OrderOut
from domain.processes import reverse_audit
from domain.processes import queries as process_queries
from domain.processes.models import Process
from domain.users.models import User
from httpkit.ids import MAX_ID, RowId
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1", tags=["processes 流程"], route_class=TransactionalRoute)


class ProcessOut(BaseModel):
    id: int
    kind: str
    stage: str
    title: str
    subject_unit_id: int | None
    case_id: int | None
    started_at: datetime
    closed_at: datetime | None
    data: dict

    @classmethod
    def of(cls, process: Process, data: dict) -> "ProcessOut":
        return cls(id=process.id, kind=process.kind, stage=process.stage, title=process.title,
                   subject_unit_id=process.subject_unit_id, case_id=process.case_id, started_at=process.started_at,
                   closed_at=process.closed_at, data=data)


class ProcessDetail(ProcessOut):
    orders: list[OrderOut]


class FraudAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_number: str
    opening_unit_id: RowId
    opened_on: datetime
    case_id: RowId | None = None
    clerk_name: str | None = Field(default=None, max_length=50)


class FraudAccountOut(BaseModel):
    id: int
    account_number: str
    opening_unit_id: int
    reverse_audit: ProcessOut | None


def _out(session: Session, user: User, process: Process) -> ProcessOut:
    return ProcessOut.of(process, process_queries.visible_data(session=session, actor=user, process=process))


@router.post("/fraud-accounts", status_code=status.HTTP_201_CREATED, response_model=FraudAccountOut)
def record_fraud_account(body: FraudAccountIn, session: Session = Depends(get_session),
                         user: User = Depends(current_user)):
    """Record a fraud-involved account against the branch that opened it; at the policy's count in a
    quarter the reverse audit (倒查) starts."""
    record, process = reverse_audit.record_fraud_account(session=session, actor=user, **body.model_dump())
    session.commit()
    return FraudAccountOut(id=record.id, account_number=reverse_audit.mask_account(record.account_number),
                           opening_unit_id=record.opening_unit_id,
                           reverse_audit=_out(session, user, process) if process else None)


@router.get("/processes", response_model=list[ProcessOut])
def list_processes(kind: str | None = Query(None, max_length=32), open_only: bool = False,
                   offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=200),
                   session: Session = Depends(get_session), user: User = Depends(current_user)):
    rows = process_queries.list_processes(session=session, actor=user, kind=kind, open_only=open_only,
                                          offset=offset, limit=limit)
    return [_out(session, user, p) for p in rows]


@router.get("/processes/{process_id}", response_model=ProcessDetail)
def get_process(process_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
    process, visible_orders = process_queries.get_with_orders(session=session, actor=user, process_id=process_id)
    return ProcessDetail(**_out(session, user, process).model_dump(), orders=[OrderOut.of(o) for o in visible_orders])
