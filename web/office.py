"""The office's pages: the dashboard, registering a case, the case list and one case's page.
Thin: each route calls the same domain services the JSON API calls."""
import json
from datetime import datetime, time

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain.audit.models import AuditEvent
from domain.cases import overview
from domain.cases import service as cases
from domain.cases.models import ESCALATION_STATES, STAGES
from domain import validation
from domain.errors import DomainError
from domain.money import from_fen
from domain.orders import overview as order_overview
from domain.timeutil import SHANGHAI, utcnow
from domain.users.models import User
from domain.users.service import SYSTEM_ACTOR, require_role
from httpkit.ids import MAX_ID, RowId
from httpkit.session import get_session
from web import case_life, case_reveal
from web.auth import field_errors
from web.charts import overdue_rows, weekly_stacked
from web.deps import is_htmx, web_user
from web.labels import FRAUD_TYPE_SUGGESTIONS
from web.language import tr
from web.templating import render

router = APIRouter()

PAGE_SIZE = 20
CASE_FIELDS = ("case_number", "amount_cny", "fraud_type", "victim_name", "victim_phone", "area", "reported_at")


@router.get("/office")
def dashboard(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    require_role(user, "office", "auditor", "admin")
    awaiting, awaiting_total = overview.awaiting_leader(session=session, actor=user, limit=8)
    listed, listed_total = overview.supervised(session=session, actor=user, limit=8)
    weeks = overview.weekly_by_tier(session=session, actor=user, weeks=12)
    order_figures, late_units = order_overview.overdue(session=session, actor=user)
    approvers, areas = overview.names(session=session, user_ids={p.approval.approver_id for p in awaiting},
                                      unit_ids={c.area_unit_id for c in listed} | {p.case.area_unit_id for p in awaiting})
    return render(request, "office/dashboard.html", user=user,
                  stages=overview.stage_counts(session=session, actor=user),
                  awaiting=awaiting, awaiting_total=awaiting_total, listed=listed, listed_total=listed_total,
                  chart=weekly_stacked(weeks), approvers=approvers, areas=areas,
                  order_figures=order_figures, order_chart=overdue_rows(late_units))


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 100_000 else 1


@router.get("/cases")
def case_list(request: Request, q: str = "", stage: str = "", state: str = "", page: str = "1",
              session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    stage = stage if stage in STAGES else ""
    state = state if state in ESCALATION_STATES else ""
    number = _page_number(page)
    rows, total = cases.list_cases(session=session, actor=user, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                                   escalation_state=state or None, stage=stage or None, search=q)
    _, areas = overview.names(session=session, unit_ids={c.area_unit_id for c in rows})
    context = dict(rows=rows, total=total, areas=areas, filters={"q": q.strip(), "stage": stage, "state": state},
                   page=number, pages=max(1, -(-total // PAGE_SIZE)), stages=STAGES, states=ESCALATION_STATES)
    template = "partials/case_results.html" if is_htmx(request) else "office/cases.html"
    return render(request, template, user=user, **context)


def _form_context(session: Session, values: dict, errors: dict) -> dict:
    return dict(values=values, errors=errors, areas=overview.area_choices(session=session),
                fraud_types=FRAUD_TYPE_SUGGESTIONS)


@router.get("/cases/new")
def new_case(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    require_role(user, "office", "admin")
    values = dict.fromkeys(CASE_FIELDS, "") | {"reported_at": utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")}
    return render(request, "office/case_new.html", user=user, **_form_context(session, values, {}))


@router.post("/cases/new")
def register_case(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user),
                  case_number: str = Form(""), amount_cny: str = Form(""), fraud_type: str = Form(""),
                  victim_name: str = Form(""), victim_phone: str = Form(""), area: str = Form(""),
                  reported_at: str = Form("")) -> Response:
    require_role(user, "office", "admin")  # before reading the form: a refusal, not a form error
    values = dict(case_number=case_number, amount_cny=amount_cny, fraud_type=fraud_type, victim_name=victim_name,
                  victim_phone=victim_phone, area=area, reported_at=reported_at)
    try:
        case = cases.register(session=session, actor=user, case_in=cases.CaseIn(
            case_number=case_number, amount_cny=amount_cny, fraud_type=fraud_type, victim_name=victim_name,
            victim_phone=victim_phone,
            area=int(area) if area.strip().isdigit() and int(area) <= MAX_ID else area.strip(),
            reported_at=reported_at))
    except DomainError as exc:
        session.rollback()
        return render(request, "office/case_new.html", user=user, status_code=exc.status,
                      **_form_context(session, values, field_errors(request, exc)))
    session.commit()
    return RedirectResponse(f"/cases/{case.id}?registered=1", status_code=303)


def _changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """What an event changed, as (field, before, after) for the timeline."""
    before = json.loads(event.before) if event.before else {}
    after = json.loads(event.after) if event.after else {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    shown = ("stage", "escalation_state", "status", "leader_tier", "next_tier", "supervised", "comment",
             "return_comment")
    return [(key, "" if before.get(key) is None else str(before.get(key)), str(after.get(key)))
            for key in shown if key in after and after.get(key) is not None and before.get(key) != after.get(key)]


def case_context(session: Session, user: User, case_id: int) -> dict:
    case = cases.get(session=session, actor=user, case_id=case_id)
    approvals = overview.approvals_of(session=session, actor=user, case_id=case_id)
    events = overview.timeline(session=session, actor=user, case_id=case_id)
    people, places = overview.names(
        session=session, unit_ids={case.area_unit_id},
        user_ids={case.registered_by_id} | {a.approver_id for a in approvals} | ({case.leader_id} - {None}))
    # The case's amount is the one the latest approval was asked on (a resubmission may have corrected it).
    explanations = {a.id: overview.explain_rule(a.rule_id, a.policy_version,
                                                amount_fen=case.amount_fen if a is approvals[-1] else None)
                    for a in approvals}
    result_values = {"solved_on": case.solved_at.astimezone(SHANGHAI).date().isoformat() if case.solved_at else "",
                     "suspects_caught": str(case.suspects_caught),
                     "recovered_cny": str(from_fen(case.recovered_fen)) if case.recovered_fen else ""}
    return dict(case=case, approvals=approvals, people=people, places=places,
                explanation=overview.explain_rule(case.tier_rule_id, case.tier_policy_version, amount_fen=case.amount_fen),
                explanations=explanations, system_actor=SYSTEM_ACTOR,
                timeline=[(event, _changes(event)) for event in events],
                actors=overview.display_names(session=session, usernames={e.actor for e in events}),
                victim_name=cases.mask_name(case.victim_name), victim_phone=cases.mask_phone(case.victim_phone),
                now=utcnow(), result_values=result_values, result_errors={},
                **case_life.forms(session=session, user=user, case=case, result_values=result_values),
                **case_reveal.context(user))


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, registered: str = "", result: str = "", done: str = "",
              session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    flash = (tr(request, "The case was registered.") if registered
             else tr(request, "The case's result was saved.") if result
             else case_life.flash(request, done) if done else None)
    return render(request, "office/case.html", user=user, flash=flash, **case_context(session, user, case_id))


def _solved_at(raw: str) -> datetime | None:
    solved = validation.day(raw, field="solved_on", label="破案日期")
    return datetime.combine(solved, time(), SHANGHAI) if solved else None


@router.post("/cases/{case_id}/result")
def record_result(request: Request, case_id: RowId, session: Session = Depends(get_session),
                  user: User = Depends(web_user), solved_on: str = Form(""), suspects_caught: str = Form(""),
                  recovered_cny: str = Form("")) -> Response:
    """The office records what the police achieved: 破案 date, people caught, money returned."""
    require_role(user, "office", "admin")
    values = dict(solved_on=solved_on, suspects_caught=suspects_caught, recovered_cny=recovered_cny)
    try:
        cases.record_result(session=session, actor=user, case_id=case_id, solved_at=_solved_at(solved_on),
                            suspects_caught=suspects_caught or "0", recovered_cny=recovered_cny)
    except DomainError as exc:
        session.rollback()
        errors = field_errors(request, exc)
        if "solved_at" in errors:
            errors["solved_on"] = errors.pop("solved_at")
        context = {**case_context(session, user, case_id), "result_values": values, "result_errors": errors}
        return render(request, "office/case.html", user=user, status_code=exc.status, **context)
    session.commit()
    return RedirectResponse(f"/cases/{case_id}?result=1", status_code=303)
