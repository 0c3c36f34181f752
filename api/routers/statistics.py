"""/api/v1/statistics and /api/v1/warnings: the office's headline figures and the warning feed.

Thin: `domain.statistics` counts, `domain.warnings` receives. The export endpoints return the
same figures as CSV or an Excel workbook.
"""
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from domain.statistics import export
from domain.statistics import service as statistics
from domain.timeutil import SHANGHAI, utcnow
from domain.users.models import User
from domain.warnings import service as warnings
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(tags=["statistics 统计"], route_class=TransactionalRoute)


class ChangeOut(BaseModel):
    previous: int
    percent: Decimal | None = Field(description="null when the earlier figure is zero")


class FigureOut(BaseModel):
    key: str
    label: str
    money: bool = Field(description="value is in fen (1/100 yuan)")
    value: int
    month_on_month: ChangeOut
    year_on_year: ChangeOut


class DashboardOut(BaseModel):
    unit_id: int
    unit_name: str
    start: date
    end: date
    previous_start: date
    previous_end: date
    year_before_start: date
    year_before_end: date
    figures: list[FigureOut]
    months: list[str]
    series: dict[str, list[int]]


class WarningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warning_number: str = Field(min_length=1, max_length=64, description="预警编号, unique")
    area: str = Field(min_length=1, max_length=64, description="area unit code (county, town or village)")
    risk_level: Literal["high", "medium", "low"]
    received_at: datetime = Field(description="without a zone it is Beijing time")


class WarningBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warnings: list[WarningIn] = Field(min_length=1, max_length=warnings.MAX_BATCH)


class WarningBatchOut(BaseModel):
    received: int
    already_received: int


def _board(session: Session, user: User, start: date | None, end: date | None, unit: str | None):
    span = statistics.period(start, end, today=utcnow().astimezone(SHANGHAI).date())
    return statistics.dashboard(session=session, actor=user, span=span, unit=unit)


DATE_HELP = "Beijing date; without start and end: the last whole month"


@router.get("/api/v1/statistics", response_model=DashboardOut)
def dashboard(start: date | None = Query(None, description=DATE_HELP), end: date | None = Query(None),
              unit: str | None = Query(None, max_length=64, description="unit id or code; default: the whole city"),
              session: Session = Depends(get_session), user: User = Depends(current_user)) -> DashboardOut:
    """Office, leaders, auditors: the headline figures with 环比 and 同比 and twelve months' series."""
    board = _board(session, user, start, end, unit)
    return DashboardOut(
        unit_id=board.unit.id, unit_name=board.unit.name, start=board.period.start, end=board.period.end,
        previous_start=board.previous.start, previous_end=board.previous.end,
        year_before_start=board.year_before.start, year_before_end=board.year_before.end,
        figures=[FigureOut(key=r.metric.key, label=r.metric.zh, money=r.metric.money, value=r.value,
                           month_on_month=ChangeOut(**vars(r.month_on_month)),
                           year_on_year=ChangeOut(**vars(r.year_on_year))) for r in board.rows],
        months=board.months, series=board.series)


@router.get("/api/v1/statistics/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, export.XLSX_TYPE: {}}}})
def export_figures(format: Literal["csv", "xlsx"] = Query("csv"), language: Literal["zh", "en"] = Query("zh"),
                   start: date | None = Query(None, description=DATE_HELP), end: date | None = Query(None),
                   unit: str | None = Query(None, max_length=64), session: Session = Depends(get_session),
                   user: User = Depends(current_user)) -> Response:
    """The same figures as a CSV file or an Excel workbook."""
    body, media_type, name = export.render(_board(session, user, start, end, unit), format, language)
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/api/v1/warnings", response_model=WarningBatchOut)
def receive_warnings(body: WarningBatchIn, session: Session = Depends(get_session),
                     user: User = Depends(current_user)) -> WarningBatchOut:
    """Office or the feed's account: a batch of warnings; numbers already received are skipped."""
    result = warnings.receive(session=session, actor=user, items=[
        warnings.WarningIn(**item.model_dump()) for item in body.warnings])
    return WarningBatchOut(received=result.received, already_received=result.already_received)
