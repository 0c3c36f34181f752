"""The office sees a case's masked victim phone in full: one click with a reason, audited without
the value (domain.cases.reveal). htmx swaps the value in place; without JavaScript the case page
comes back with it shown."""
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from domain.cases import reveal as reveal_service
from domain.errors import DomainError, Forbidden, NotFound
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import get_session
from web.auth import field_errors
from web.deps import is_htmx, web_user
from web.language import language_of
from web.templating import render

router = APIRouter()


def context(user: User, *, revealed: dict | None = None, error: str | None = None, reason: str = "") -> dict:
    """What the case page needs to offer the reveal (only to those who may)."""
    label_zh, label_en = reveal_service.REVEALABLE["victim_phone"]
    return dict(may_reveal=user.role in reveal_service.REVEALER_ROLES, revealed=revealed, reveal_error=error,
                reveal_reason=reason, reveal_needs_reason=True, reveal_labels=(label_zh, label_en))


@router.post("/cases/{case_id}/reveal", name="case_reveal")
def reveal(request: Request, case_id: RowId, session: Session = Depends(get_session), user: User = Depends(web_user),
           reason: str = Form(""), field: str = Form("victim_phone")) -> Response:
    from web.office import case_context  # the page's context lives with the page

    try:
        revealed = reveal_service.reveal(session=session, actor=user, case_id=case_id, field=field, reason=reason)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        error = field_errors(request, exc).popitem()[1]
        shown = context(user, error=error, reason=reason)
        if is_htmx(request):
            label_zh, label_en = shown["reveal_labels"]
            return render(request, "partials/reveal_form.html", user=user, status_code=exc.status, **shown,
                          reveal_action=f"/cases/{case_id}/reveal",
                          reveal_field=label_en if language_of(request) == "en" else label_zh)
        return render(request, "office/case.html", user=user, status_code=exc.status,
                      **{**case_context(session, user, case_id), **shown})
    session.commit()
    if is_htmx(request):
        return render(request, "partials/revealed.html", user=user, revealed=revealed)
    return render(request, "office/case.html", user=user,
                  **{**case_context(session, user, case_id), **context(user, revealed=revealed)})
