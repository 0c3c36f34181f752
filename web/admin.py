"""User administration: create users, assign their unit, role and leader tier, reset a password,
deactivate and reactivate. Every change goes through domain.accounts and lands in the audit trail."""
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain.accounts import service as accounts
from domain.audit import service as audit
from domain.errors import DomainError
from domain.units.tree import in_tree_order
from domain.users.models import LEADER_TIERS, ROLES, User
from domain.users.service import require_role
from httpkit.ids import RowId
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import web_user
from web.labels import N_
from web.language import tr
from web.templating import render

router = APIRouter(prefix="/admin")
PAGE_SIZE = 30


def _choices(session: Session) -> dict:
    return dict(roles=ROLES, tiers=LEADER_TIERS, units=in_tree_order(session=session))


@router.get("/users")
def users(request: Request, q: str = "", page: str = "1", session: Session = Depends(get_session),
          user: User = Depends(web_user)) -> Response:
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    rows, total = accounts.list_users(session=session, actor=user, search=q, offset=(number - 1) * PAGE_SIZE,
                                      limit=PAGE_SIZE)
    units = {u.id: u.name for u, _ in in_tree_order(session=session)}
    return render(request, "admin/users.html", user=user, rows=rows, total=total, q=q, page=number,
                  pages=max(1, -(-total // PAGE_SIZE)), unit_names=units)


@router.get("/users/new")
def new_user(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    require_role(user, "admin")
    values = {"username": "", "display_name": "", "role": "office", "leader_tier": "", "unit_id": ""}
    return render(request, "admin/user_new.html", user=user, values=values, errors={}, **_choices(session))


@router.post("/users/new")
def create_user(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user),
                username: str = Form(""), display_name: str = Form(""), role: str = Form(""),
                leader_tier: str = Form(""), unit_id: str = Form(""), password: str = Form("")) -> Response:
    values = dict(username=username, display_name=display_name, role=role, leader_tier=leader_tier, unit_id=unit_id)
    try:
        created = accounts.create_user(session=session, actor=user, user_in=accounts.UserIn(
            username=username, display_name=display_name, role=role, unit_id=unit_id, leader_tier=leader_tier,
            password=password))
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            raise
        return render(request, "admin/user_new.html", user=user, status_code=exc.status, values=values,
                      errors=field_errors(request, exc), **_choices(session))
    session.commit()
    return RedirectResponse(f"/admin/users/{created.id}?done=created", status_code=303)


_DONE = {"created": N_("The user was created."), "saved": N_("Saved."),
         "deactivated": N_("The user was deactivated and signed out."),
         "reactivated": N_("The user was reactivated."),
         "password": N_("The password was reset; the user was signed out.")}


def _edit_page(request: Request, session: Session, actor: User, target: User, *, errors: dict | None = None,
               values: dict | None = None, status_code: int = 200, done: str = "") -> Response:
    values = values or dict(display_name=target.display_name, role=target.role, leader_tier=target.leader_tier or "",
                            unit_id=str(target.unit_id))
    flash = tr(request, _DONE[done]) if done in _DONE else None
    return render(request, "admin/user_edit.html", user=actor, target=target, values=values, errors=errors or {},
                  status_code=status_code, flash=flash,
                  history=audit.history(session=session, entity_type="user", entity_id=target.id),
                  **_choices(session))


@router.get("/users/{user_id}")
def edit_user(request: Request, user_id: RowId, done: str = "", session: Session = Depends(get_session),
              user: User = Depends(web_user)) -> Response:
    target = accounts.get_user(session=session, actor=user, user_id=user_id)
    return _edit_page(request, session, user, target, done=done)


@router.post("/users/{user_id}")
def assign_user(request: Request, user_id: RowId, session: Session = Depends(get_session),
                user: User = Depends(web_user), display_name: str = Form(""), role: str = Form(""),
                leader_tier: str = Form(""), unit_id: str = Form("")) -> Response:
    values = dict(display_name=display_name, role=role, leader_tier=leader_tier, unit_id=unit_id)
    try:
        accounts.assign_user(session=session, actor=user, user_id=user_id, display_name=display_name, role=role,
                             leader_tier=leader_tier, unit_id=unit_id)
    except DomainError as exc:
        session.rollback()
        target = accounts.get_user(session=session, actor=user, user_id=user_id)
        return _edit_page(request, session, user, target, errors=field_errors(request, exc), values=values,
                          status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/admin/users/{user_id}?done=saved", status_code=303)


def _act(request: Request, session: Session, user: User, user_id: int, action, done: str, **kwargs) -> Response:
    try:
        action(session=session, actor=user, user_id=user_id, **kwargs)
    except DomainError as exc:
        session.rollback()
        target = accounts.get_user(session=session, actor=user, user_id=user_id)
        return _edit_page(request, session, user, target, errors=field_errors(request, exc), status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/admin/users/{user_id}?done={done}", status_code=303)


@router.post("/users/{user_id}/deactivate")
def deactivate(request: Request, user_id: RowId, session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    return _act(request, session, user, user_id, accounts.deactivate_user, "deactivated")


@router.post("/users/{user_id}/reactivate")
def reactivate(request: Request, user_id: RowId, session: Session = Depends(get_session),
               user: User = Depends(web_user)) -> Response:
    return _act(request, session, user, user_id, accounts.reactivate_user, "reactivated")


@router.post("/users/{user_id}/password")
def reset_password(request: Request, user_id: RowId, session: Session = Depends(get_session),
                   user: User = Depends(web_user), password: str = Form("")) -> Response:
    return _act(request, session, user, user_id, accounts.reset_password, "password", new_password=password)
