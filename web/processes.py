"""The processes (流程) as people follow them, for every registered kind: the list with its filters
(kind, stage, unit, overdue) and one process's page — its stage on the kind's progress line, its
orders with both deadlines, its documents, its timeline, and the forms of what this person may
record now (验收, 申诉, 续冻 …, as the kind declares). Thin: each action is the kind's own handler,
the one the API calls."""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from domain.cases import overview as case_overview
from domain.errors import DomainError, Forbidden, NotFound
from domain.processes import forms, overview, registry
from domain.units.tree import in_tree_order
from domain.users.models import User
from httpkit.ids import MAX_ID, RowId
from httpkit.session import get_session
from web import process_forms
from web.deps import is_htmx, web_user
from web.labels import N_
from web.language import tr
from web.process_start import posted_form, startable
from web.templating import render

router = APIRouter()

PAGE_SIZE = 25
DONE = {"started": N_("The process was started. Its orders go out in a moment."),
        "recorded": N_("Recorded. The process takes it from here.")}


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


@router.get("/processes", name="process_list")
def process_list(request: Request, kind: str = "", stage: str = "", unit: str = "", overdue: str = "",
                 open_only: str = "", page: str = "1", session: Session = Depends(get_session),
                 user: User = Depends(web_user)) -> Response:
    kinds = registry.kinds()
    stages = overview.stage_kinds()
    filters = {"kind": kind if kind in {k.name for k in kinds} else "",
               "stage": stage if stage in {s[0] for s in stages} else "",
               "unit": unit if unit.isdigit() and int(unit) <= MAX_ID else "",
               "overdue": "1" if overdue == "1" else "", "open_only": "1" if open_only == "1" else ""}
    number = _page_number(page)
    found, total = overview.search(session=session, actor=user, kind=filters["kind"] or None,
                                   stage=filters["stage"] or None,
                                   unit_id=int(filters["unit"]) if filters["unit"] else None,
                                   overdue=bool(filters["overdue"]), open_only=bool(filters["open_only"]),
                                   offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    context = dict(rows=found, total=total, filters=filters, page=number, pages=max(1, -(-total // PAGE_SIZE)),
                   kinds=kinds, stages=stages, can_start=bool(startable(user)),
                   units=in_tree_order(session=session) if user.role in ("office", "auditor", "admin") else [],
                   unit_names=overview.unit_names(session=session, unit_ids={p.subject_unit_id for p in found}))
    template = "partials/process_results.html" if is_htmx(request) else "processes/list.html"
    return render(request, template, user=user, **context)


def page_response(request: Request, session: Session, user: User, process_id: int, *, status_code: int = 200,
                  flash: str | None = None, action_values: dict | None = None,
                  action_errors: dict | None = None) -> Response:
    shown = overview.page(session=session, actor=user, process_id=process_id)
    action_options = {a.slug: process_forms.options(session, a.fields) for a in shown.actions}
    actors = case_overview.display_names(session=session, usernames={e.actor for e in shown.timeline})
    return render(request, "processes/process.html", user=user, status_code=status_code, flash=flash, page=shown,
                  process=shown.process, kind=shown.kind, action_options=action_options, actors=actors,
                  event_changes=overview.changes,
                  action_values=action_values or {}, action_errors=action_errors or {})


@router.get("/processes/{process_id}", name="process_page")
def process_page(request: Request, process_id: RowId, done: str = "", session: Session = Depends(get_session),
                 user: User = Depends(web_user)) -> Response:
    return page_response(request, session, user, process_id, flash=tr(request, DONE[done]) if done in DONE else None)


@router.post("/processes/{process_id}/{action_slug}", name="process_action")
def process_action(request: Request, process_id: RowId, action_slug: str, form: FormData = Depends(posted_form),
                   session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    """What the kind lets this person record now (its handler checks role and stage again)."""
    shown = overview.page(session=session, actor=user, process_id=process_id)  # 404 when not theirs
    action = shown.kind.action(action_slug)
    if action is None:
        raise NotFound("not_found", "页面不存在", "no such page")
    values = process_forms.values_of(action.fields, form)
    try:
        action.handler(session=session, actor=user, process_id=process_id,
                       **forms.read(session, user, action.fields, values))
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        return page_response(request, session, user, process_id, status_code=exc.status,
                             action_values={action_slug: values},
                             action_errors={action_slug: process_forms.errors_of(request, exc, action.fields)})
    session.commit()
    return RedirectResponse(f"/processes/{process_id}?done=recorded", status_code=303)
