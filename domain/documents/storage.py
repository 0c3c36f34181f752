"""PDF files of issued documents, under `settings.home/documents/<year>/`.

A file is named after the document's verification code and the first bytes of its hash, so a
re-render that changes the bytes gets a new file and older copies stay on disk. A file written
in a transaction that then rolls back is removed again (the document row never existed).
"""
import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from domain.settings import get_settings

_PENDING_KEY = "lianban.documents.new_files"
_LISTENING_KEY = "lianban.documents.listening"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def home() -> Path:
    return Path(get_settings().home)


def relative_path(*, year: int, verification_code: str, sha256: str) -> str:
    return f"documents/{year}/{verification_code}-{sha256[:16]}.pdf"


def absolute(relative: str) -> Path:
    return home() / relative


def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _remove_pending(session: Session) -> None:
    for path in session.info.pop(_PENDING_KEY, []):
        path.unlink(missing_ok=True)


def write(*, session: Session, relative: str, data: bytes) -> Path:
    """Write atomically (temp file + rename); undone if the session's transaction rolls back."""
    path = absolute(relative)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".pdf", delete=False) as tmp:
        tmp.write(data)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)
    if not session.info.get(_LISTENING_KEY):
        event.listen(session, "after_commit", _forget)
        event.listen(session, "after_rollback", _remove_pending)
        session.info[_LISTENING_KEY] = True
    session.info.setdefault(_PENDING_KEY, []).append(path)
    return path


def read(relative: str) -> bytes | None:
    path = absolute(relative)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
