"""The orders pages (指令): the office issues an order to a unit, lists and filters the orders,
reviews a unit's report (accept / return for rework, one click each); everyone who may see an
order opens its page (facts, evidence, the official PDF, the timeline). The liaison's inbox and
their actions are in web/liaison.py. Thin: each route calls the domain services the API calls."""
import json
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain.audit.models import AuditEvent
from domain.cases import overview as case_overview
from domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from domain.orders import documents as order_documents
from domain.orders import evidence as evidence_service
from domain.orders import reveal as reveal_service
from domain.orders import overview
from domain.orders import service as orders
from domain.orders.models import OPEN_STATUSES, STATUS_NAMES_ZH, Order
from domain.policy import current_policy
from domain.processes import overview as process_overview
from domain.users.models import User
from domain.users.service import require_role
from httpkit.ids import MAX_ID, RowId
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import is_htmx, web_user
from web.labels import N_
from web.language import tr
from web.templating import render

router = APIRouter()

PAGE_SIZE = 25
ORDER_FIELDS = ("kind", "addressee_unit_id", "title", "instructions", "case_number")
DONE = {"issued": N_("The order was issued to the unit."), "acknowledged": N_("Acknowledged."),
        "reported": N_("Your report was sent to the office."), "accepted": N_("The report was accepted."),
        "returned": N_("The report was returned for rework."), "cancelled": N_("The order was cancelled.")}


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _flag(raw: str) -> bool | None:
    return True if raw == "1" else False if raw == "0" else None


# ---- the office's list ----

@router.get("/orders", name="orders_list")
def order_list(request: Request, status: str = "", kind: str = "", overdue: str = "", escalated: str = "",
               open_only: str = Query("", alias="open"), page: str = "1", session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    if user.role in orders.ADDRESSEE_ROLES:  # a unit's orders are its inbox
        return RedirectResponse(request.url_for("orders_inbox").path, status_code=303)
    kinds = current_policy().orders.kinds
    filters = {"status": status if status in STATUS_NAMES_ZH else "", "kind": kind if kind in kinds else "",
               "overdue": overdue if overdue in ("0", "1") else "", "escalated": "1" if escalated == "1" else "",
               "open": "1" if open_only == "1" else ""}
    number = page_number(page)
    found, total = orders.list_orders(session=session, actor=user, status=filters["status"] or None,
                                      kind=filters["kind"] or None, overdue=_flag(filters["overdue"]),
                                      escalated=True if filters["escalated"] else None,
                                      open_only=bool(filters["open"]), offset=(number - 1) * PAGE_SIZE,
                                      limit=PAGE_SIZE)
    context = dict(rows=overview.rows_of(session=session, found=found), total=total, filters=filters, page=number,
                   pages=max(1, -(-total // PAGE_SIZE)), statuses=STATUS_NAMES_ZH, kinds=kinds,
                   cases=overview.case_numbers(session=session, actor=user, case_ids={o.case_id for o in found}))
    template = "partials/order_results.html" if is_htmx(request) else "orders/list.html"
    return render(request, template, user=user, **context)


# ---- issuing ----

def _form_context(session: Session, values: dict, errors: dict) -> dict:
    roots, groups = overview.unit_groups(session=session)
    return dict(values=values, errors=errors, kinds=current_policy().orders.kinds, unit_roots=roots,
                unit_groups=groups)


@router.get("/orders/new", name="order_new")
def new_order(request: Request, case: str = "", unit: str = "", session: Session = Depends(get_session),
              user: User = Depends(web_user)) -> Response:
    require_role(user, *orders.OFFICE_ROLES)
    values = dict.fromkeys(ORDER_FIELDS, "") | {"case_number": case.strip()[:64], "addressee_unit_id": unit.strip()}
    return render(request, "orders/new.html", user=user, **_form_context(session, values, {}))


def _unit_id(raw: str) -> int | None:
    return int(raw) if raw.strip().isdigit() and int(raw) <= MAX_ID else None


@router.post("/orders/new", name="order_issue")
def issue_order(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user),
                kind: str = Form(""), addressee_unit_id: str = Form(""), title: str = Form(""),
                instructions: str = Form(""), case_number: str = Form("")) -> Response:
    require_role(user, *orders.OFFICE_ROLES)  # before reading the form: a refusal, not a form error
    values = dict(kind=kind, addressee_unit_id=addressee_unit_id, title=title, instructions=instructions,
                  case_number=case_number)
    try:
        order = orders.issue_by_office(session=session, actor=user, kind=kind,
                                       addressee_unit_id=_unit_id(addressee_unit_id), title=title,
                                       instructions=instructions, case_number=case_number)
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            raise
        return render(request, "orders/new.html", user=user, status_code=exc.status,
                      **_form_context(session, values, field_errors(request, exc)))
    session.commit()
    return RedirectResponse(f"/orders/{order.id}?done=issued", status_code=303)


# ---- one order ----

SHOWN_CHANGES = ("status", "report_text", "reported_amount_fen", "review_comment", "cancelled_reason", "filename")


def _changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """What an order event changed, as (field, before, after) for the timeline."""
    before = json.loads(event.before) if event.before else {}
    after = json.loads(event.after) if event.after else {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return [(key, "" if before.get(key) is None else str(before.get(key)), str(after.get(key)))
            for key in SHOWN_CHANGES if after.get(key) is not None and before.get(key) != after.get(key)]


def order_context(session: Session, user: User, order: Order, *, report: dict | None = None,
                  report_errors: dict | None = None, review_errors: dict | None = None, comment: str = "",
                  reason: str = "", message: str | None = None, revealed: dict | None = None,
                  reveal_error: str | None = None, reveal_reason: str = "") -> dict:
    """Everything the order's panel shows (the page, and what htmx swaps after an action)."""
    events = overview.timeline(session=session, actor=user, order_id=order.id)
    rules = current_policy().orders.evidence
    return dict(
        order=order, late=overview.lateness(order), unit_name=overview.unit_name(session=session,
                                                                                 unit_id=order.addressee_unit_id),
        case_number=overview.case_numbers(session=session, actor=user, case_ids={order.case_id}).get(order.case_id),
        steps=overview.next_statuses(session=session, order=order, actor=user), needs_amount=overview.needs_amount(order),
        outcomes=overview.outcome_choices(order), outcome=order.details_dict.get("outcome"),
        evidence=evidence_service.list_for_order(session=session, actor=user, order_id=order.id),
        evidence_types=rules.allowed_types, evidence_max_mb=rules.max_bytes // (1024 * 1024),
        timeline=[(event, _changes(event)) for event in events],
        actors=case_overview.display_names(session=session, usernames={e.actor for e in events} | {order.issued_by}),
        report=report or overview.report_as_sent(order), report_errors=report_errors or {},
        review_errors=review_errors or {}, comment=comment, reason=reason, message=message,
        revealable=(reveal_service.revealable(session, order) if reveal_service.may_reveal(user)
                    and (user.role in orders.OFFICE_ROLES or order.status in OPEN_STATUSES) else None),
        reveal_needs_reason=user.role in orders.OFFICE_ROLES, revealed=revealed, reveal_error=reveal_error,
        reveal_reason=reveal_reason,
        process_shown=process_overview.can_see(session=session, actor=user, process_id=order.process_id))


def order_response(request: Request, session: Session, user: User, order_id: int, *, status_code: int = 200,
                   panel: bool = False, flash: str | None = None, **extra) -> Response:
    order = orders.get(session=session, actor=user, order_id=order_id)
    context = order_context(session, user, order, **extra)
    if panel:
        return render(request, "partials/order_panel.html", user=user, status_code=status_code, **context)
    return render(request, "orders/order.html", user=user, status_code=status_code, flash=flash, **context)


@router.get("/orders/{order_id}", name="order_page")
def order_page(request: Request, order_id: RowId, done: str = "", session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    return order_response(request, session, user, order_id, flash=tr(request, DONE[done]) if done in DONE else None)


def acted(request: Request, session: Session, user: User, order_id: int, done: str) -> Response:
    """After an action went through: the panel again for htmx, back to the page for a plain form."""
    if not is_htmx(request):
        return RedirectResponse(f"/orders/{order_id}?done={done}", status_code=303)
    return order_response(request, session, user, order_id, panel=True, message=tr(request, DONE[done]))


@router.post("/orders/{order_id}/review", name="order_review")
def review(request: Request, order_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
           decision: str = Form(""), comment: str = Form("")) -> Response:
    """Accept (验收通过) or return for rework with a comment (退回重办): one click, one request."""
    try:
        if decision == "accept":
            orders.accept(session=session, actor=user, order_id=order_id, comment=comment)
        elif decision == "return":
            orders.return_for_rework(session=session, actor=user, order_id=order_id, comment=comment)
        else:
            raise InvalidInput("bad_decision", "请选择验收通过或退回重办", "choose accept or return", field="comment")
    except (Forbidden, NotFound):
        raise  # not theirs: nothing of the order is shown
    except DomainError as exc:
        session.rollback()
        return order_response(request, session, user, order_id, status_code=exc.status, panel=is_htmx(request),
                              review_errors=field_errors(request, exc), comment=comment)
    session.commit()
    return acted(request, session, user, order_id, "accepted" if decision == "accept" else "returned")


@router.post("/orders/{order_id}/cancel", name="order_cancel")
def cancel(request: Request, order_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
           reason: str = Form("")) -> Response:
    try:
        orders.cancel(session=session, actor=user, order_id=order_id, reason=reason)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        return order_response(request, session, user, order_id, status_code=exc.status, panel=is_htmx(request),
                              review_errors=field_errors(request, exc), reason=reason)
    session.commit()
    return acted(request, session, user, order_id, "cancelled")


def attachment(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "no-store"})


@router.get("/orders/{order_id}/pdf", name="order_pdf")
def order_pdf(order_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    """The order's official document (PDF), for whoever may see the order."""
    doc, data = order_documents.pdf_for_order(session=session, actor=user, order_id=order_id)
    return attachment(data, "application/pdf", f"{doc.number}.pdf")


@router.get("/evidence/{evidence_id}", name="evidence_download")
def evidence_file(evidence_id: RowId, session: Session = Depends(get_session),
                  user: User = Depends(web_user)) -> Response:
    item, data = evidence_service.read(session=session, actor=user, evidence_id=evidence_id)
    return attachment(data, item.content_type, item.filename)
