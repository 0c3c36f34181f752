"""The pages of a member unit's liaison (banks, carriers) and of police units: the inbox of their
unit's orders — new and overdue ones marked, 挂牌督办 flagged, live (polled every 2 s, answered
with 204 while nothing changed) — acknowledging in one click, reporting back with evidence, and
the unit's notices (催办, 督办, 退回). Thin: each route calls the domain services the API calls."""
import hashlib

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile as StarletteUpload

from domain.errors import DomainError, Forbidden, NotFound
from domain.orders import evidence as evidence_service
from domain.orders import reveal as reveal_service
from domain.orders import overview
from domain.orders import service as orders
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import is_htmx, web_user
from web.language import language_of, tr
from web.orders import DONE, acted, order_response, page_number
from web.templating import render

router = APIRouter()

INBOX_SIZE = 50
POLL_SECONDS = 2
NOTICES_SHOWN = 10
MAX_UPLOAD_READ = 210 * 1024 * 1024  # a ceiling before the policy's own limit is checked (as the API)


def _inbox_context(session: Session, user: User, show: str, page: str) -> dict:
    everything = show == "all"
    number = page_number(page)
    rows, total = overview.inbox(session=session, actor=user, open_only=not everything,
                                 offset=(number - 1) * INBOX_SIZE, limit=INBOX_SIZE)
    return dict(rows=rows, total=total, show="all" if everything else "open", page=number,
                pages=max(1, -(-total // INBOX_SIZE)), version=_version(rows, total), poll_seconds=POLL_SECONDS)


def _version(rows: list[overview.OrderRow], total: int) -> str:
    """Changes whenever what the inbox shows changes: an order added or gone, acknowledged,
    reported, late, reminded or escalated."""
    text = f"{total}|" + ",".join(f"{r.order.id}:{r.order.status}:{r.late}:{int(r.escalated)}:{r.order.reminders}"
                                  for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@router.get("/inbox", name="orders_inbox")
def inbox_page(request: Request, show: str = "", page: str = "1", session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    if user.role not in orders.ADDRESSEE_ROLES:  # the office's orders are its list
        return RedirectResponse(request.url_for("orders_list").path, status_code=303)
    return render(request, "orders/inbox.html", user=user, **_inbox_context(session, user, show, page),
                  notices=orders.notices_for(session=session, actor=user, limit=NOTICES_SHOWN))


@router.get("/inbox/rows", name="orders_inbox_rows")
def inbox_rows(request: Request, v: str = "", show: str = "", page: str = "1",
               session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    """The poll: 204 (htmx swaps nothing) while the inbox is as the page shows it."""
    if user.role not in orders.ADDRESSEE_ROLES:
        raise Forbidden("role_forbidden", "您的角色没有指令收件箱", f"role '{user.role}' has no orders inbox")
    context = _inbox_context(session, user, show, page)
    if v and v == context["version"]:
        return Response(status_code=204)
    return render(request, "partials/inbox.html", user=user, **context)


def _row(request: Request, session: Session, user: User, order_id: int, *, status_code: int = 200,
         message: str | None = None, error: str | None = None) -> Response:
    order = orders.get(session=session, actor=user, order_id=order_id)
    row = overview.rows_of(session=session, found=[order])[0]
    return render(request, "partials/inbox_row.html", user=user, status_code=status_code, row=row, message=message,
                  error=error)


@router.post("/orders/{order_id}/acknowledge", name="order_acknowledge")
def acknowledge(request: Request, order_id: RowId, session: Session = Depends(get_session),
                user: User = Depends(web_user), view: str = Form("")) -> Response:
    """签收 in one click, from the inbox (the row is swapped) or from the order's page."""
    in_row = view == "row" and is_htmx(request)
    try:
        orders.acknowledge(session=session, actor=user, order_id=order_id)
    except (Forbidden, NotFound):
        raise  # not theirs: nothing of the order is shown
    except DomainError as exc:
        session.rollback()
        message = field_errors(request, exc).popitem()[1]
        if in_row:
            return _row(request, session, user, order_id, status_code=exc.status, error=message)
        return order_response(request, session, user, order_id, status_code=exc.status, panel=is_htmx(request),
                              review_errors={"_form": message})
    session.commit()
    if in_row:
        done = DONE["acknowledged"]
        return _row(request, session, user, order_id, message=tr(request, done))
    return acted(request, session, user, order_id, "acknowledged")


@router.post("/orders/{order_id}/report", name="order_report")
def report(request: Request, order_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
           text: str = Form(""), amount_cny: str = Form(""), outcome: str = Form(""),
           file: list[UploadFile | str] | None = File(None)) -> Response:
    """反馈: what was done (the amount held, the outcome, when the order asks), with evidence files.
    The files are attached first (a report closes the order to evidence); an error anywhere keeps
    everything typed and names the field at fault."""
    values = dict(text=text, amount_cny=amount_cny, outcome=outcome)
    # An empty file field arrives as "" (no file chosen), a chosen file as an upload.
    chosen = [f for f in file or [] if isinstance(f, StarletteUpload) and f.filename]
    attached = False
    try:
        for upload in chosen:
            evidence_service.attach(session=session, actor=user, order_id=order_id, filename=upload.filename,
                                    content_type=upload.content_type or "", data=upload.file.read(MAX_UPLOAD_READ + 1))
            attached = True
        orders.report(session=session, actor=user, order_id=order_id, text=text, amount_cny=amount_cny,
                      outcome=outcome or None)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        errors = field_errors(request, exc)
        if attached and "file" not in errors:  # a browser never keeps a chosen file: say so
            errors["file"] = tr(request,
                                "Because of the error in this form the files were not kept: choose them again.")
        return order_response(request, session, user, order_id, status_code=exc.status, report=values,
                              report_errors=errors)
    session.commit()
    return RedirectResponse(f"/orders/{order_id}?done=reported", status_code=303)


@router.post("/orders/{order_id}/reveal", name="order_reveal")
def reveal(request: Request, order_id: RowId, session: Session = Depends(get_session),
           user: User = Depends(web_user), reason: str = Form("")) -> Response:
    """The full ID number or phone the order shows masked, for the addressee's liaison and, with a
    reason, the office (audited, never the value)."""
    try:
        revealed = reveal_service.reveal(session=session, actor=user, order_id=order_id, reason=reason)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        errors = field_errors(request, exc)
        if "reason" in errors and is_htmx(request):  # the form again, in place, the error beside the reason
            order = orders.get(session=session, actor=user, order_id=order_id)
            field = reveal_service.revealable(session, order)
            return render(request, "partials/reveal_form.html", user=user, status_code=exc.status,
                          reveal_action=f"/orders/{order_id}/reveal", reveal_needs_reason=True,
                          reveal_field=field[2] if language_of(request) == "en" else field[1],
                          reveal_error=errors["reason"], reveal_reason=reason)
        if "reason" in errors:
            return order_response(request, session, user, order_id, status_code=exc.status,
                                  reveal_error=errors["reason"], reveal_reason=reason)
        return order_response(request, session, user, order_id, status_code=exc.status, panel=is_htmx(request),
                              review_errors=errors)
    session.commit()
    if is_htmx(request):
        return render(request, "partials/revealed.html", user=user, revealed=revealed)
    return order_response(request, session, user, order_id, revealed=revealed)
