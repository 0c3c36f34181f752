"""/api/v1/circulations: a month's circulation ranking (通报) and running a month by hand.

Thin: `domain.circulation` ranks, records, gives cards and lists; the monthly Prefect flow does the
same on its schedule. Running a month already circulated returns it unchanged.
"""
from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from api.deps import current_user
from domain.circulation import circular
from domain.circulation import service as circulation
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1/circulations", tags=["circulation 月通报"], route_class=TransactionalRoute)


@router.get("/{month}")
def get_month(month: str, version: RowId | None = Query(None, description="default: the current version"),
              session: Session = Depends(get_session), user: User = Depends(current_user)) -> dict:
    """The ranking as circulated city-wide (every signed-in user may read it), its cards and listings."""
    return circulation.ranking_view(session=session, month=month, version=version)


@router.post("/{month}/run")
def run_month(month: str, session: Session = Depends(get_session), user: User = Depends(current_user)) -> dict:
    """Office or admin: rank and circulate a month that is over (idempotent)."""
    actor = circulation.require_runner(user)
    record = circular.run(session=session, month=month, actor=actor)
    session.flush()
    return circulation.ranking_view(session=session, month=record.month, version=record.version)
