"""Signing in and out, changing one's password, and where each person lands."""
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from domain.accounts import service as accounts
from domain.errors import DomainError, InvalidInput
from domain.users.models import User
from httpkit.session import get_session
from web.deps import optional_user, web_user
from web.language import tr, language_of, short
from web.nav import home_path
from web.security import SESSION_COOKIE, delete_cookie, safe_next, set_cookie
from web.templating import render

router = APIRouter()


def client_ip(request: Request) -> str:
    """The socket's address; a proxy's X-Forwarded-For only when uvicorn was told to trust that
    proxy (LIANBAN_TRUSTED_PROXIES, server/serving.py)."""
    return request.client.host if request.client else "unknown"


def field_errors(request: Request, exc: DomainError) -> dict[str, str]:
    """A domain error as {field: message}, for the form to show next to the field (every field at
    fault, when the error names several)."""
    language = short(language_of(request))
    return {e.field or "_form": e.message(language) for e in getattr(exc, "errors", [exc])}


@router.get("/")
def root(user: User | None = Depends(optional_user)) -> RedirectResponse:
    return RedirectResponse(home_path(user) if user else "/login", status_code=303)


@router.get("/home")
def home(request: Request, user: User = Depends(web_user)) -> Response:
    """The landing page of people whose pages are the orders (liaisons, police units)."""
    return render(request, "home.html", user=user)


@router.get("/login")
def login_page(request: Request, next: str = "", user: User | None = Depends(optional_user)) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next, home_path(user)), status_code=303)
    return render(request, "auth/login.html", values={"username": "", "next": safe_next(next, "")}, errors={})


@router.post("/login")
def login(request: Request, session: Session = Depends(get_session), username: str = Form(""),
          password: str = Form(""), next: str = Form("")) -> Response:
    try:
        user = accounts.authenticate_password(session=session, username=username, password=password,
                                              ip=client_ip(request))
    except DomainError as exc:
        session.commit()  # the refused attempt stays recorded: that is what the rate limit counts
        return render(request, "auth/login.html", status_code=exc.status, errors=field_errors(request, exc),
                      values={"username": username, "next": safe_next(next, "")})
    accounts.end_session(session=session, token=request.cookies.get(SESSION_COOKIE))  # never reuse an id
    token = accounts.start_session(session=session, user=user, ip=client_ip(request))
    session.commit()
    response = RedirectResponse(safe_next(next, home_path(user)), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/logout")
def logout(request: Request, session: Session = Depends(get_session)) -> RedirectResponse:
    accounts.end_session(session=session, token=request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/account/password")
def password_page(request: Request, user: User = Depends(web_user)) -> Response:
    return render(request, "auth/password.html", user=user, errors={}, done=False)


@router.post("/account/password")
def change_password(request: Request, session: Session = Depends(get_session), user: User = Depends(web_user),
                    current_password: str = Form(""), new_password: str = Form(""),
                    confirm_password: str = Form("")) -> Response:
    try:
        if new_password != confirm_password:
            raise InvalidInput("password_mismatch", "两次输入的新密码不一致", "the two new passwords differ",
                               field="confirm_password")
        accounts.change_password(session=session, actor=user, current_password=current_password,
                                 new_password=new_password, keep_token=request.cookies.get(SESSION_COOKIE),
                                 ip=client_ip(request))
    except DomainError as exc:
        session.commit()  # only the attempt is recorded (a wrong current password counts as a guess)
        return render(request, "auth/password.html", user=user, status_code=exc.status,
                      errors=field_errors(request, exc), done=False)
    session.commit()
    return render(request, "auth/password.html", user=user, errors={}, done=True,
                  flash=tr(request, "Your password was changed. Your other sessions were signed out."))
