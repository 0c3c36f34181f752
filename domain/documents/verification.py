"""Public verification of a document (公文核验): anyone holding one — a bank, a carrier outlet, a
citizen shown a "police order" — checks it without signing in, by its verification code or by
the PDF itself (genuine only if its SHA-256 is exactly that of a PDF we issued).

It shows only what the document itself shows. Checks are rate-limited per client with an
in-memory sliding window: per process, so several web processes each count on their own, and
behind a proxy the proxy must pass the client address (uvicorn --proxy-headers); a proxy-level
limit is the production answer. The answer is a `Verdict`, which the public page
(`web/verify.py`) and its JSON twin (`api/routers/documents.py`) only show.
"""
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlmodel import Session

from domain.documents import service as documents
from domain.documents.models import KIND_NAMES_ZH, STATUS_NAMES_ZH, Document
from domain.documents.render import chinese_date

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # our PDFs are 0.1–0.5 MB
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // 2**20
# (requests, seconds) per client and kind of check
LIMITS = {"lookup": (30, 60.0), "upload": (10, 60.0)}

TOO_MANY = "核验请求过于频繁，请稍后再试。"
NO_LENGTH = "请以普通表单方式上传文件（缺少 Content-Length）。"
TOO_BIG = f"文件过大：本系统签发的公文不超过 {MAX_UPLOAD_MB} MB。"
UNREADABLE = "上传内容无法解析，请选择 PDF 文件后重新提交。"
NO_FILE = "请选择要核验的 PDF 文件。"


@dataclass(frozen=True)
class Verdict:
    """What a check found. `status` is the HTTP status both faces answer with."""
    result: str  # found | unknown_code | genuine | not_genuine | refused | too_many
    status: int = 200
    doc: dict | None = None  # `facts` of the document, when one was found
    message: str | None = None  # why a check was refused
    retry_after: int | None = None  # seconds, when too many checks came from one client


class SlidingWindowLimiter:
    """At most `limit` hits per key within the last `window` seconds (timestamps kept per key)."""

    def __init__(self, limits: dict[str, tuple[int, float]] = LIMITS):
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


def facts(doc: Document) -> dict:
    """What a check shows: only what is printed on the document itself, plus its status."""
    return {"number": doc.number, "kind": doc.kind, "kind_name": KIND_NAMES_ZH[doc.kind], "version": doc.version,
            "addressee": doc.addressee, "issued_date": chinese_date(doc.issued_at),
            "status": doc.status, "status_name": STATUS_NAMES_ZH[doc.status], "in_force": doc.status == "in_force"}


def too_many(retry_after: float) -> Verdict:
    return Verdict("too_many", 429, message=TOO_MANY, retry_after=int(retry_after) + 1)


def refused(status: int, message: str) -> Verdict:
    return Verdict("refused", status, message=message)


def length_refusal(content_length: str | None) -> Verdict | None:
    """An upload refused before it is read: no declared length, or more than a document can be."""
    if content_length is None or not content_length.isdigit():
        return refused(411, NO_LENGTH)
    if int(content_length) > MAX_UPLOAD_BYTES + 64 * 1024:  # room for the multipart envelope
        return refused(413, TOO_BIG)
    return None


def lookup(*, session: Session, code: str) -> Verdict:
    """What a verification code (as typed) stands for."""
    doc = documents.by_verification_code(session=session, code=code)
    return Verdict("found", doc=facts(doc)) if doc else Verdict("unknown_code", 404)


def check_pdf(*, session: Session, data: bytes) -> Verdict:
    """Whether these bytes are exactly a PDF we issued (any altered or invented file is not)."""
    if len(data) > MAX_UPLOAD_BYTES:
        return refused(413, TOO_BIG)
    doc = documents.match_pdf(session=session, data=data)
    return Verdict("genuine", doc=facts(doc)) if doc else Verdict("not_genuine")
