"""The statistics page: the headline figures for a period and a unit subtree, with 环比/同比,
twelve months as charts, and the downloads. Thin: domain.statistics counts."""
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from domain.errors import InvalidInput
from domain.statistics import export
from domain.statistics import service as statistics
from domain.timeutil import SHANGHAI, utcnow
from domain.units.tree import in_tree_order
from domain.users.models import User
from domain.users.service import require_role
from httpkit.session import get_session
from web.charts import grouped_bars
from web.deps import is_htmx, web_user
from web.labels import N_
from web.language import language_of, short, tr
from web.orders import attachment
from web.templating import render

router = APIRouter()

SCOPE_KINDS = {"government", "county", "town", "village", "bank", "bank_branch", "carrier", "carrier_outlet"}
# Each chart: a title (catalogue message) and the metrics drawn side by side; money is shown in 万元.
CHARTS = (
    (N_("Cases reported and solved"), ("cases_reported", "cases_solved")),
    (N_("Warnings handled and dissuaded"), ("warnings", "dissuaded")),
    (N_("Amounts stopped, frozen and returned (10,000 CNY)"), ("stopped_fen", "frozen_fen", "recovered_fen")),
)


def _date(raw: str, field: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("bad_date", "日期格式须为 YYYY-MM-DD", "dates look like 2026-10-31", field=field) from None


def _board(session: Session, user: User, start: str, end: str, unit: str):
    require_role(user, *statistics.READER_ROLES)
    span = statistics.period(_date(start, "start"), _date(end, "end"), today=utcnow().astimezone(SHANGHAI).date())
    return statistics.dashboard(session=session, actor=user, span=span, unit=unit.strip() or None)


def _charts(request: Request, board) -> list[dict]:
    english = language_of(request) == "en"
    labels = [month[2:].replace("-", "/") for month in board.months]
    charts = []
    for title, keys in CHARTS:
        metrics = [row.metric for row in board.rows if row.metric.key in keys]
        series = [(m.en if english else m.zh,
                   [v // 1_000_000 if m.money else v for v in board.series[m.key]]) for m in metrics]
        charts.append({"title": tr(request, title), "chart": grouped_bars(labels, series)})
    return charts


@router.get("/statistics")
def statistics_page(request: Request, start: str = "", end: str = "", unit: str = "",
                    session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    errors: dict[str, str] = {}
    try:
        board = _board(session, user, start, end, unit)
    except InvalidInput as error:  # a bad filter: say so beside the field, show the default period
        errors[error.field or "start"] = error.message(short(language_of(request)))
        board = _board(session, user, "", "", "")
    context = dict(board=board, charts=_charts(request, board), errors=errors,
                   filters={"start": board.period.start.isoformat(), "end": board.period.end.isoformat(),
                            "unit": unit.strip() if not errors.get("unit") else ""},
                   units=in_tree_order(session=session, kinds=SCOPE_KINDS))
    template = "partials/statistics_results.html" if is_htmx(request) else "office/statistics.html"
    return render(request, template, user=user, **context)


@router.get("/statistics/export")
def statistics_export(request: Request, format: str = "csv", start: str = "", end: str = "", unit: str = "",
                      session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    board = _board(session, user, start, end, unit)
    body, media_type, name = export.render(board, "xlsx" if format == "xlsx" else "csv",
                                           short(language_of(request)))
    return attachment(body, media_type, name)
