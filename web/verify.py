"""The public verification page (公文核验): anyone holding a document checks it without signing in.

- GET  /verify          a form: enter the verification code, or upload the PDF
- GET  /verify/<code>   the document's number, kind, addressee, date and whether it is in force
- POST /verify          upload a PDF (multipart field `file`)

The checks and their limits are `domain.documents.verification` (through `httpkit.verification`,
shared with the JSON twin under /api/v1/verify); this page only shows their verdict.
"""
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from domain.documents.verification import MAX_UPLOAD_MB, Verdict
from httpkit.verification import check_upload, lookup_code
from web.security import CSRF_FIELD, csrf_token

# Its own environment: the public page has no sign-in, navigation or language switch.
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


def _page(request: Request, verdict: Verdict | None = None, code: str = "") -> HTMLResponse:
    verdict = verdict or Verdict("")
    headers = {"Retry-After": str(verdict.retry_after)} if verdict.retry_after else None
    context = {"csrf_field": CSRF_FIELD, "csrf_token": csrf_token(request), "max_mb": MAX_UPLOAD_MB,
               "result": verdict.result or None, "doc": verdict.doc, "message": verdict.message, "code": code}
    return templates.TemplateResponse(request, "verify.html", context, status_code=verdict.status, headers=headers)


async def _lookup_page(request: Request, code: str) -> Response:
    verdict = await lookup_code(request, code)
    shown = {"found": code, "unknown_code": code[:32]}.get(verdict.result, "")
    return _page(request, verdict, code=shown)


@router.get("/verify", response_class=HTMLResponse)
async def verify_form(request: Request, code: str | None = None) -> Response:
    if code:  # the form's "enter the code" field
        return await _lookup_page(request, code.strip())
    return _page(request)


@router.get("/verify/{code}", response_class=HTMLResponse)
async def verify_code(code: str, request: Request) -> Response:
    return await _lookup_page(request, code)


@router.post("/verify", response_class=HTMLResponse)
async def verify_upload(request: Request) -> Response:
    return _page(request, await check_upload(request))
