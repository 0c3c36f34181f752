"""The case page's moves along 研→交→办→督→结: close (结案, solved or not), reopen (重新启动) and
resubmit a returned escalation (重新呈报). Which forms the page shows is what the case's machines
allow this person now; every error is shown beside its field, all of them at once."""
from datetime import datetime, time

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain import validation
from domain.cases import life
from domain.cases.machine import CASE_ESCALATION, CASE_STAGE
from domain.cases.models import Case
from domain.errors import DomainError, Forbidden, NotFound
from domain.money import from_fen
from domain.timeutil import SHANGHAI
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import web_user
from web.labels import N_
from web.language import tr
from web.templating import render

router = APIRouter()

DONE = {"closed": N_("The case was closed."), "reopened": N_("The case was reopened."),
        "resubmitted": N_("The case was submitted to the leader again.")}


def flash(request: Request, done: str) -> str | None:
    return tr(request, DONE[done]) if done in DONE else None


def forms(*, session: Session, user: User, case: Case, result_values: dict) -> dict:
    """The moves this person may make on the case now (the machines' table), with empty forms."""
    actions = {m.action for machine in (CASE_STAGE, CASE_ESCALATION)
               for m in machine.allowed(session=session, actor=user, obj=case)}
    blocker = life.close_blocker(session=session, case=case) if "close" in actions else None
    return dict(case_actions=actions, close_blocker=blocker,
                close_values={"outcome": "solved" if case.solved_at else "", "reason": "", **result_values},
                close_errors={}, reopen_values={"reason": ""}, reopen_errors={},
                resubmit_values={"amount_cny": str(from_fen(case.amount_fen))}, resubmit_errors={})


def _date(raw: str, field: str) -> datetime | None:
    solved = validation.day(raw, field=field, label="破案日期")
    return datetime.combine(solved, time(), SHANGHAI) if solved else None


def _again(request: Request, session: Session, user: User, case_id: int, exc: DomainError, form: str,
           values: dict) -> Response:
    """The case page again, the form filled in as sent and each error beside its field."""
    session.rollback()
    errors = field_errors(request, exc)
    if "solved_at" in errors:
        errors["solved_on"] = errors.pop("solved_at")
    from web.office import case_context  # the page's context lives with the page

    context = {**case_context(session, user, case_id), f"{form}_values": values, f"{form}_errors": errors}
    return render(request, "office/case.html", user=user, status_code=exc.status, **context)


def _done(case_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


@router.post("/cases/{case_id}/close")
def close(request: Request, case_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
          outcome: str = Form(""), reason: str = Form(""), solved_on: str = Form(""), suspects_caught: str = Form(""),
          recovered_cny: str = Form("")) -> Response:
    values = dict(outcome=outcome, reason=reason, solved_on=solved_on, suspects_caught=suspects_caught,
                  recovered_cny=recovered_cny)
    try:
        solved_at = _date(solved_on, "solved_on") if outcome == "solved" else None
        life.close(session=session, actor=user, case_id=case_id, outcome=outcome, reason=reason, solved_at=solved_at,
                   suspects_caught=suspects_caught if outcome == "solved" else None,
                   recovered_cny=recovered_cny if outcome == "solved" else None)
    except (Forbidden, NotFound):
        raise  # not theirs: nothing of the case is shown
    except DomainError as exc:
        return _again(request, session, user, case_id, exc, "close", values)
    session.commit()
    return _done(case_id, "closed")


@router.post("/cases/{case_id}/reopen")
def reopen(request: Request, case_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
           reason: str = Form("")) -> Response:
    try:
        life.reopen(session=session, actor=user, case_id=case_id, reason=reason)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _again(request, session, user, case_id, exc, "reopen", {"reason": reason})
    session.commit()
    return _done(case_id, "reopened")


@router.post("/cases/{case_id}/resubmit")
def resubmit(request: Request, case_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
             amount_cny: str = Form("")) -> Response:
    try:
        life.resubmit(session=session, actor=user, case_id=case_id, amount_cny=amount_cny)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _again(request, session, user, case_id, exc, "resubmit", {"amount_cny": amount_cny})
    session.commit()
    return _done(case_id, "resubmitted")
