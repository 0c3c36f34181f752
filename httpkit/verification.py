"""Verification requests (公文核验) as both faces receive them: counted per client, the upload
read within its limits, the check run in a read-only session off the event loop. The answer is
the domain's `Verdict`; the public page and the JSON twin only show it."""
import threading
from collections.abc import Callable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.datastructures import UploadFile

from domain.db import read_only
from domain.documents import verification
from domain.documents.verification import SlidingWindowLimiter, Verdict
from httpkit.session import engine_of

_limiter_lock = threading.Lock()


def _limiter(request: Request) -> SlidingWindowLimiter:
    """One limiter per app, shared by the page and the JSON twin (tests build many apps; each
    starts with a clean count)."""
    state = request.app.state
    with _limiter_lock:
        limiter = getattr(state, "verify_limiter", None)
        if limiter is None:
            limiter = state.verify_limiter = SlidingWindowLimiter()
    return limiter


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _checked(request: Request, check: Callable[..., Verdict], **arguments) -> Verdict:
    with Session(read_only(engine_of(request))) as session:
        return check(session=session, **arguments)


async def lookup_code(request: Request, code: str) -> Verdict:
    retry = _limiter(request).hit("lookup", _client_ip(request))
    if retry:
        return verification.too_many(retry)
    return await run_in_threadpool(_checked, request, verification.lookup, code=code)


async def check_upload(request: Request) -> Verdict:
    """A PDF posted as the multipart field `file`."""
    retry = _limiter(request).hit("upload", _client_ip(request))
    if retry:
        return verification.too_many(retry)
    refusal = verification.length_refusal(request.headers.get("content-length"))
    if refusal:
        return refusal
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # malformed multipart: starlette raises its own errors
        return verification.refused(400, verification.UNREADABLE)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return verification.refused(422, verification.NO_FILE)
        data = await upload.read(verification.MAX_UPLOAD_BYTES + 1)
    finally:
        await form.close()
    return await run_in_threadpool(_checked, request, verification.check_pdf, data=data)
