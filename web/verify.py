"""The public verification page (公文核验): anyone holding a document — a bank, a carrier outlet,
a citizen shown a "police order" — checks it without signing in.

- GET  /verify          a form: enter the verification code, or upload the PDF
- GET  /verify/<code>   the document's number, kind, addressee, date and whether it is in force
- POST /verify          upload a PDF (multipart field `file`): genuine only if its SHA-256 is
                        exactly that of a PDF we issued; any altered or invented file is not

It shows only what the document itself shows. Requests are rate-limited per client IP with an
in-memory sliding window: per process, so several web processes each count on their own, and
behind a proxy the proxy must pass the client address (uvicorn --proxy-headers); a proxy-level
limit is the production answer. `lookup_code`/`check_upload` also serve the JSON twins under
/api/v1/verify (api.routers.documents).
"""
import threading
import time
from collections import deque
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.datastructures import UploadFile

from domain.db import get_engine, read_only
from domain.documents import service as documents
from domain.documents.models import KIND_NAMES_ZH, STATUS_NAMES_ZH, Document
from domain.documents.render import chinese_date
from web.security import CSRF_FIELD, csrf_token

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # our PDFs are 0.1–0.5 MB
# (requests, seconds) per client IP and kind of request
LIMITS = {"lookup": (30, 60.0), "upload": (10, 60.0)}

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


class SlidingWindowLimiter:
    """At most `limit` hits per key within the last `window` seconds (timestamps kept per key)."""

    def __init__(self, limits: dict[str, tuple[int, float]]):
        self._limits = limits
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, now: float | None = None) -> float:
        """Record a hit; 0 if allowed, else the seconds until the next one would be."""
        limit, window = self._limits[bucket]
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > 50_000:  # forget idle clients so the table stays small
                self._hits = {k: q for k, q in self._hits.items() if q and q[-1] > now - window}
            hits = self._hits.setdefault((bucket, key), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + window - now, 0.001)
            hits.append(now)
            return 0.0


_limiter_lock = threading.Lock()


def _limiter(request: Request) -> SlidingWindowLimiter:
    """One limiter per app (tests build many apps; each starts with a clean count)."""
    state = request.app.state
    with _limiter_lock:
        limiter = getattr(state, "verify_limiter", None)
        if limiter is None:
            limiter = state.verify_limiter = SlidingWindowLimiter(LIMITS)
    return limiter


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _engine(request: Request):
    return read_only(getattr(request.app.state, "engine", None) or get_engine())


def facts(doc: Document) -> dict:
    """What the page shows: only what is printed on the document itself, plus its status."""
    return {"number": doc.number, "kind": doc.kind, "kind_name": KIND_NAMES_ZH[doc.kind], "version": doc.version,
            "addressee": doc.addressee, "issued_date": chinese_date(doc.issued_at),
            "status": doc.status, "status_name": STATUS_NAMES_ZH[doc.status], "in_force": doc.status == "in_force"}


def _page(request: Request, status_code: int = 200, headers: dict | None = None, **context) -> HTMLResponse:
    context = {"csrf_field": CSRF_FIELD, "csrf_token": csrf_token(request), "max_mb": MAX_UPLOAD_BYTES // 2**20,
               "result": None, "doc": None, "message": None, "code": "", **context}
    return templates.TemplateResponse(request, "verify.html", context, status_code=status_code, headers=headers)


def _too_many(request: Request, retry_after: float, as_json: bool) -> Response:
    headers = {"Retry-After": str(int(retry_after) + 1)}
    message = "核验请求过于频繁，请稍后再试。"
    if as_json:
        return JSONResponse({"detail": message}, status_code=429, headers=headers)
    return _page(request, 429, headers=headers, result="too_many", message=message)


def _find_by_code(engine, code: str) -> dict | None:
    with Session(engine) as session:
        doc = documents.by_verification_code(session=session, code=code)
        return facts(doc) if doc else None


def _find_by_bytes(engine, data: bytes) -> dict | None:
    with Session(engine) as session:
        doc = documents.match_pdf(session=session, data=data)
        return facts(doc) if doc else None


async def lookup_code(request: Request, code: str, *, as_json: bool) -> Response:
    retry = _limiter(request).hit("lookup", _client_ip(request))
    if retry:
        return _too_many(request, retry, as_json)
    found = await run_in_threadpool(_find_by_code, _engine(request), code)
    if as_json:
        return JSONResponse({"found": True, **found} if found else {"found": False}, status_code=200 if found else 404)
    if found is None:
        return _page(request, 404, result="unknown_code", code=code[:32])
    return _page(request, result="found", doc=found, code=code)


async def check_upload(request: Request, *, as_json: bool) -> Response:
    retry = _limiter(request).hit("upload", _client_ip(request))
    if retry:
        return _too_many(request, retry, as_json)

    def refuse(status_code: int, message: str) -> Response:
        if as_json:
            return JSONResponse({"detail": message}, status_code=status_code)
        return _page(request, status_code, result="refused", message=message)

    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return refuse(411, "请以普通表单方式上传文件（缺少 Content-Length）。")
    if int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        return refuse(413, f"文件过大：本系统签发的公文不超过 {MAX_UPLOAD_BYTES // 2**20} MB。")
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # malformed multipart: starlette raises its own errors
        return refuse(400, "上传内容无法解析，请选择 PDF 文件后重新提交。")
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return refuse(422, "请选择要核验的 PDF 文件。")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
    finally:
        await form.close()
    if len(data) > MAX_UPLOAD_BYTES:
        return refuse(413, f"文件过大：本系统签发的公文不超过 {MAX_UPLOAD_BYTES // 2**20} MB。")
    found = await run_in_threadpool(_find_by_bytes, _engine(request), data)
    if as_json:
        return JSONResponse({"genuine": True, **found} if found else {"genuine": False})
    return _page(request, result="genuine" if found else "not_genuine", doc=found)


@router.get("/verify", response_class=HTMLResponse)
async def verify_form(request: Request, code: str | None = None) -> Response:
    if code:  # the form's "enter the code" field
        return await lookup_code(request, code.strip(), as_json=False)
    return _page(request)


@router.get("/verify/{code}", response_class=HTMLResponse)
async def verify_code(code: str, request: Request) -> Response:
    return await lookup_code(request, code, as_json=False)


@router.post("/verify", response_class=HTMLResponse)
async def verify_upload(request: Request) -> Response:
    return await check_upload(request, as_json=False)
