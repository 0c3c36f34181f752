"""The auditor's page: the audit trail filtered by actor, action (refused attempts included), unit,
case and days, each entry's before and after, the chain's status, a page at a time, and the same
selection as CSV. Read-only: only GETs, and the domain (domain.audit.trail) does every query."""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from domain.audit import service as audit
from domain.audit import trail
from domain.cases import overview
from domain.errors import DomainError
from domain.timeutil import SHANGHAI, utcnow
from domain.users.models import User
from domain.users.service import require_role
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import is_htmx, web_user
from web.labels import AUDIT_ACTIONS
from web.language import tr
from web.orders import attachment, page_number
from web.templating import render

router = APIRouter()

PAGE_SIZE = 50
FILTERS = ("actor", "action", "unit", "case_number", "start", "end")


def _typed(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "")[:64] for name in FILTERS}


@router.get("/audit", name="audit_trail")
def trail_page(request: Request, page: str = "1", session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    require_role(user, *trail.READER_ROLES)
    typed, errors, rows, total = _typed(request), {}, [], 0
    number = page_number(page)
    try:
        chosen = trail.parse_filter(session=session, **typed)
        rows, total = trail.search(session=session, actor=user, chosen=chosen, offset=(number - 1) * PAGE_SIZE,
                                   limit=PAGE_SIZE)
    except DomainError as exc:
        if exc.status == 403:
            raise
        errors = field_errors(request, exc)
    context = dict(filters=typed, errors=errors, rows=[(e, trail.changes(e)) for e in rows], total=total,
                   page=number, pages=max(1, -(-total // PAGE_SIZE)),
                   names=overview.display_names(session=session, usernames={e.actor for e in rows}))
    if is_htmx(request) and request.headers.get("hx-target") == "trail-results":
        return render(request, "partials/trail_results.html", user=user, **context)
    return render(request, "audit/trail.html", user=user, actions=trail.actions(session=session, actor=user),
                  actors=trail.actors(session=session, actor=user),
                  units=trail.unit_choices(session=session, actor=user), refused=trail.REFUSED, **context)


@router.get("/audit/chain", name="audit_chain")
def chain_status(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    """The chain checked from its first entry (loaded after the page, so the list never waits on it)."""
    require_role(user, *trail.READER_ROLES)
    report = audit.verify(session=session)
    template = "partials/chain_status.html" if is_htmx(request) else "audit/chain.html"
    return render(request, template, user=user, report=report)


@router.get("/audit/export.csv", name="audit_export")
def export(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    require_role(user, *trail.READER_ROLES)
    chosen = trail.parse_filter(session=session, **_typed(request))
    names = {code: tr(request, label) for code, label in AUDIT_ACTIONS.items()}
    data = trail.export_csv(session=session, actor=user, chosen=chosen, action_names=names)
    return attachment(data, "text/csv; charset=utf-8", f"审计日志-{utcnow().astimezone(SHANGHAI):%Y%m%d-%H%M}.csv")
