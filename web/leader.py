"""The leader's pages: the approval queue (live: polled every 2 s, answered with 204 when nothing
changed), one-click decisions that swap the row, and the cases they took (包案)."""
import hashlib

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain.cases import overview
from domain.errors import DomainError, Forbidden, NotFound
from domain.escalation import service as escalation
from domain.users.models import User
from domain.users.service import require_role
from flows.nudge import nudge_follow_up
from httpkit.ids import RowId
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import is_htmx, web_user
from web.language import tr
from web.templating import render

router = APIRouter(prefix="/leader")

QUEUE_SIZE = 50
POLL_SECONDS = 2


def _queue_context(session: Session, user: User) -> dict:
    items, total = overview.leader_queue(session=session, actor=user, limit=QUEUE_SIZE)
    _, areas = overview.names(session=session, unit_ids={i.case.area_unit_id for i in items})
    return dict(items=items, total=total, areas=areas, version=_version(items, total), poll_seconds=POLL_SECONDS,
                errors={}, decided=False, comment="", message=None)


def _version(items: list[overview.PendingApproval], total: int) -> str:
    """Changes whenever what the queue shows changes: an approval added or gone, or one overdue."""
    text = f"{total}|" + ",".join(f"{i.approval.id}:{int(i.overdue)}" for i in items)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@router.get("/queue")
def queue_page(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    require_role(user, "leader")
    return render(request, "leader/queue.html", user=user, **_queue_context(session, user))


@router.get("/queue/rows")
def queue_rows(request: Request, v: str = "", session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    """The poll: 204 (htmx swaps nothing) while the queue is as the page shows it."""
    require_role(user, "leader")
    context = _queue_context(session, user)
    if v and v == context["version"]:
        return Response(status_code=204)
    return render(request, "partials/queue.html", user=user, **context)


@router.post("/approvals/{approval_id}/decision")
def decide(request: Request, approval_id: RowId, background: BackgroundTasks, session: Session = Depends(get_session),
           user: User = Depends(web_user), decision: str = Form(""), comment: str = Form("")) -> Response:
    """Approve (同意) or return with a comment (退回): one click, one request."""
    try:
        approval = escalation.decide(session=session, actor=user, approval_id=approval_id, decision=decision,
                                     comment=comment)
    except (Forbidden, NotFound):
        raise  # not theirs: nothing of the approval is shown
    except DomainError as exc:
        session.rollback()
        if not is_htmx(request):
            raise
        item = overview.queue_item(session=session, actor=user, approval_id=approval_id)
        return render(request, "partials/approval_row.html", user=user, status_code=exc.status, item=item,
                      errors=field_errors(request, exc), comment=comment, decided=item.approval.status != "pending")
    session.commit()
    item = overview.queue_item(session=session, actor=user, approval_id=approval.id)
    background.add_task(nudge_follow_up, approval.id, item.case.case_number)
    message = tr(request, "Approved: case %(number)s is now yours to lead.", number=item.case.case_number) \
        if approval.status == "approved" else \
        tr(request, "Returned to the office: case %(number)s.", number=item.case.case_number)
    if not is_htmx(request):
        return RedirectResponse("/leader/queue", status_code=303)
    _, areas = overview.names(session=session, unit_ids={item.case.area_unit_id})
    return render(request, "partials/approval_row.html", user=user, item=item, errors={}, comment="", decided=True,
                  areas=areas, message=message)


@router.get("/cases")
def my_cases(request: Request, page: str = "1", session: Session = Depends(get_session),
             user: User = Depends(web_user)) -> Response:
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    rows, total = overview.taken_by(session=session, actor=user, offset=(number - 1) * QUEUE_SIZE, limit=QUEUE_SIZE)
    _, areas = overview.names(session=session, unit_ids={c.area_unit_id for c in rows})
    return render(request, "leader/cases.html", user=user, rows=rows, total=total, areas=areas, page=number,
                  pages=max(1, -(-total // QUEUE_SIZE)))
