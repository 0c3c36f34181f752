"""Starting a process, for every registered kind (domain/processes/registry.py): the kinds this
person may start, and each kind's start form drawn from its declared fields — plus its other ways
in (a 倒查 counts fraud-involved accounts, one by one or from a CSV/Excel file). A kind added with
its module gets these pages too. Thin: the kind's own function validates and starts."""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from domain.processes import forms, registry
from domain.processes.registry import ProcessEntry, ProcessKind
from domain.users.models import User
from httpkit.session import get_session
from web import process_forms
from web.deps import web_user
from web.labels import N_
from web.language import language_of, short, tr
from web.templating import render

router = APIRouter()

MAX_TABLE_BYTES = 5 * 1024 * 1024
DONE = {"recorded": N_("Recorded."),
        "recorded_started": N_("Recorded, and the process started.")}


async def posted_form(request: Request) -> FormData:
    return await request.form(max_part_size=MAX_TABLE_BYTES + 1024)


def startable(user: User) -> list[ProcessKind]:
    return [k for k in registry.kinds() if user.role in k.start_roles]


def _kind(slug: str, user: User) -> ProcessKind:
    kind = registry.by_slug(slug)
    if user.role not in kind.start_roles:
        raise Forbidden("role_forbidden", f"您的角色不能发起{kind.label_zh}", f"role '{user.role}' may not start this")
    return kind


@router.get("/processes/new", name="process_kinds")
def kinds_page(request: Request, user: User = Depends(web_user)) -> Response:
    kinds = startable(user)
    if not kinds:
        raise Forbidden("role_forbidden", "您的角色不能发起流程", f"role '{user.role}' starts no process")
    return render(request, "processes/kinds.html", user=user, kinds=kinds)


def _entry_forms(session: Session, kind: ProcessKind, entry_values: dict | None = None,
                 entry_errors: dict | None = None) -> list[dict]:
    return [dict(entry=e, options=process_forms.options(session, e.fields),
                 values=(entry_values or {}).get(e.slug, {}), errors=(entry_errors or {}).get(e.slug, {}))
            for e in kind.entries]


def start_page(request: Request, session: Session, user: User, kind: ProcessKind, *, values: dict,
               errors: dict | None = None, status_code: int = 200, **extra) -> Response:
    return render(request, "processes/start.html", user=user, status_code=status_code, kind=kind,
                  options=process_forms.options(session, kind.start_fields), values=values, errors=errors or {},
                  entries=_entry_forms(session, kind, extra.pop("entry_values", None), extra.pop("entry_errors", None)),
                  **extra)


@router.get("/processes/new/{kind_slug}", name="process_start_form")
def start_form(request: Request, kind_slug: str, done: str = "", started: str = "",
               session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    kind = _kind(kind_slug, user)
    values = {f.name: request.query_params.get(f.name, "") for f in kind.start_fields}
    if kind.prefill is not None:
        values = kind.prefill(session, values)
    flash = tr(request, DONE[done]) if done in DONE else None
    return start_page(request, session, user, kind, values=values, flash=flash,
                      started_id=int(started) if started.isdigit() and len(started) < 12 else None)


@router.post("/processes/new/{kind_slug}", name="process_start")
def start(request: Request, kind_slug: str, form: FormData = Depends(posted_form),
          session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    kind = _kind(kind_slug, user)  # before reading the form: a refusal, not a form error
    values = process_forms.values_of(kind.start_fields, form)
    try:
        process = kind.start(session=session, actor=user, **forms.read(session, user, kind.start_fields, values))
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        return start_page(request, session, user, kind, values=values, status_code=exc.status,
                          errors=process_forms.errors_of(request, exc, kind.start_fields))
    session.commit()
    return RedirectResponse(f"/processes/{process.id}?done=started", status_code=303)


def _entry(kind: ProcessKind, slug: str) -> ProcessEntry:
    entry = kind.entry(slug)
    if entry is None:
        raise NotFound("not_found", "页面不存在", "no such page")
    return entry


@router.post("/processes/new/{kind_slug}/{entry_slug}", name="process_entry")
def record_entry(request: Request, kind_slug: str, entry_slug: str, form: FormData = Depends(posted_form),
                 session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    """One record of a kind's other way in (a fraud-involved account)."""
    kind = _kind(kind_slug, user)
    entry = _entry(kind, entry_slug)
    values = process_forms.values_of(entry.fields, form)
    try:
        started = entry.handler(session=session, actor=user, **forms.read(session, user, entry.fields, values))
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        session.rollback()
        return start_page(request, session, user, kind, values={}, status_code=exc.status,
                          entry_values={entry.slug: values},
                          entry_errors={entry.slug: process_forms.errors_of(request, exc, entry.fields)})
    session.commit()
    query = f"done=recorded_started&started={started.id}" if started is not None else "done=recorded"
    return RedirectResponse(f"/processes/new/{kind.slug}?{query}#entry-{entry.slug}", status_code=303)


def _record_rows(session: Session, user: User, entry: ProcessEntry, rows: list[dict], language: str) -> list[dict]:
    """Row by row: a refused row changes nothing (an entry's handler refuses before it writes, see
    registry.ProcessEntry), the others are recorded."""
    results = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            started = entry.handler(session=session, actor=user, **forms.read(session, user, entry.fields, row))
            results.append({"row": number, "ok": True, "started": started})
        except (Forbidden, NotFound):
            raise
        except DomainError as exc:
            messages = [e.message(language) for e in getattr(exc, "errors", [exc])]
            results.append({"row": number, "ok": False, "message": "；".join(messages)})
    return results


@router.post("/processes/new/{kind_slug}/{entry_slug}/upload", name="process_entry_upload")
def upload_entries(request: Request, kind_slug: str, entry_slug: str, form: FormData = Depends(posted_form),
                   session: Session = Depends(get_session), user: User = Depends(web_user)) -> Response:
    """Many records at once from a CSV or Excel file; the page lists each row's result."""
    kind = _kind(kind_slug, user)
    entry = _entry(kind, entry_slug)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("file_required", "请选择要上传的文件", "choose a file to upload", field="file")
        data = upload.file.read(MAX_TABLE_BYTES + 1)
        if len(data) > MAX_TABLE_BYTES:
            raise InvalidInput("file_too_large", "文件不能超过 5 MB", "the file may be at most 5 MB", field="file")
        rows = forms.rows(entry.fields, upload.filename, data)
    except DomainError as exc:
        return start_page(request, session, user, kind, values={}, status_code=exc.status,
                          upload_errors={entry.slug: process_forms.errors_of(request, exc, ())["_form"]})
    results = _record_rows(session, user, entry, rows, short(language_of(request)))
    session.commit()
    return start_page(request, session, user, kind, values={}, upload_results={entry.slug: results})
