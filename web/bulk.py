"""Many orders at once (domain/orders/bulk.py): the liaison ticks orders in the inbox and
acknowledges them together; the office ticks reported orders in the list and accepts them together.
The answer is a page that says, order by order, which went through and why the others did not."""
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from domain.errors import DomainError, Forbidden
from domain.orders import bulk
from domain.users.models import User
from httpkit.ids import MAX_ID
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import web_user
from web.labels import N_
from web.templating import render

router = APIRouter()

DONE = {"acknowledge": N_("Acknowledged"), "accept": N_("Report accepted")}


def _ids(raw: list[str]) -> list[int]:
    return [int(v) for v in raw if v.strip().isdigit() and 0 < int(v) <= MAX_ID]


def _answer(request: Request, session: Session, user: User, action: str, run) -> Response:
    try:
        result = run()
    except Forbidden:
        raise
    except DomainError as exc:
        session.rollback()
        return render(request, "orders/batch.html", user=user, status_code=exc.status, action=action, result=None,
                      errors=field_errors(request, exc))
    session.commit()
    return render(request, "orders/batch.html", user=user, action=action, result=result, errors={},
                  done=DONE[action])


@router.post("/inbox/acknowledge", name="orders_acknowledge_many")
def acknowledge_many(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user),
                     order_id: list[str] = Form([])) -> Response:
    """签收 the orders ticked in the inbox, each on its own."""
    return _answer(request, session, user, "acknowledge",
                   lambda: bulk.acknowledge_many(session=session, actor=user, order_ids=_ids(order_id)))


@router.post("/orders/accept-reports", name="orders_accept_many")
def accept_many(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user),
                order_id: list[str] = Form([]), comment: str = Form("")) -> Response:
    """验收通过 the reported orders ticked in the list, each on its own."""
    return _answer(request, session, user, "accept",
                   lambda: bulk.accept_many(session=session, actor=user, order_ids=_ids(order_id), comment=comment))
