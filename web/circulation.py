"""The monthly circulation (通报) pages: the months circulated, a month's rankings, its cards and
listings, the circular's PDF; the office runs a month that is over by hand (the Prefect flow does
it on the 1st). Thin: domain.circulation ranks, records and issues."""
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain.circulation import circular
from domain.circulation import service as circulation
from domain.documents import service as documents
from domain.errors import DomainError, NotFound
from domain.policy import current_policy
from domain.users.models import User
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import web_user
from web.orders import attachment
from web.templating import render

router = APIRouter()


def _labels() -> dict[str, str]:
    policy = current_policy().circulation
    return {rule.id: rule.label_zh for rule in [*policy.areas, *policy.member_units]}


def _page(request: Request, session: Session, user: User, month: str, *, errors: dict | None = None,
          flash: str | None = None, status_code: int = 200) -> Response:
    months = circulation.circulated_months(session=session)
    chosen = month.strip() or (months[0].month if months else "")
    view = None
    if chosen:
        try:
            view = circulation.ranking_view(session=session, month=chosen)
        except DomainError as exc:
            errors = {**(errors or {}), **field_errors(request, exc)}
    return render(request, "office/circulation.html", user=user, status_code=status_code, months=months, view=view,
                  labels=_labels(), errors=errors or {}, flash=flash, suggested_month=circulation.previous_month(),
                  may_run=user.role in circulation.RUNNER_ROLES, may_read_documents=user.role in documents.READER_ROLES)


@router.get("/circulation")
def circulation_page(request: Request, month: str = "", session: Session = Depends(get_session),
                     user: User = Depends(web_user)) -> Response:
    return _page(request, session, user, month)


@router.post("/circulation/run")
def run_month(request: Request, month: str = Form(""), session: Session = Depends(get_session),
              user: User = Depends(web_user)) -> Response:
    actor = circulation.require_runner(user)
    try:
        record = circular.run(session=session, month=circulation.parse_month(month), actor=actor)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, user, "", errors=field_errors(request, exc), status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/circulation?month={quote(record.month)}", status_code=303)


@router.get("/circulation/{month}/pdf")
def circular_pdf(month: str, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    record = circulation.current(session=session, month=circulation.parse_month(month))
    if record is None or record.document_id is None:
        raise NotFound("circular_not_found", f"{month} 尚无通报文件", f"{month} has no circular yet")
    doc, data = documents.pdf_bytes(session=session, actor=user, document_id=record.document_id)
    return attachment(data, "application/pdf", f"{doc.number}.pdf")
