"""Evidence attachments: size and type limits from policy, the type found by parsing the content
(PDF with pypdf, images with Pillow), stored under the configured folder by SHA-256 with the
extension of that type. A refused upload writes nothing; a file written in a transaction that then
rolls back (a report refused after its files were attached) is removed again."""
import hashlib
import os
import re
import tempfile
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.orders import content_types
from domain.orders import service as orders
from domain.orders.models import OPEN_STATUSES, Evidence
from domain.policy import current_policy
from domain.settings import get_settings
from domain.timeutil import utcnow
from domain.users.models import User

# What the first bytes of each allowed type look like: the declared type must match the content.
_MAGIC = {"application/pdf": (b"%PDF-",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
_EXTENSION = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def safe_filename(name: str) -> str:
    """Keep what a person would recognise, drop every path trick ("../", "C:\\", NUL)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(". ")
    return base[:200] or "evidence"


def evidence_root() -> Path:
    return get_settings().home / "evidence"


def attach(*, session: Session, actor: User, order_id: int, filename: str, content_type: str, data: bytes) -> Evidence:
    if actor.role not in orders.ADDRESSEE_ROLES:
        raise Forbidden("not_addressee", "只有接收单位的联络员可以上传佐证材料",
                        "only the addressee unit's liaison uploads evidence")
    order = orders.get(session=session, actor=actor, order_id=order_id)
    if order.status not in OPEN_STATUSES or order.status == "reported":
        raise Conflict("order_not_open", "该指令当前不能再上传材料", "this order takes no more evidence now")
    rules = current_policy().orders.evidence
    content_type = (content_type or "").split(";")[0].strip().lower()
    if len(data) == 0:
        raise InvalidInput("empty_file", "文件为空", "the file is empty", field="file")
    if len(data) > rules.max_bytes:
        raise InvalidInput("file_too_large", f"文件过大：上限 {rules.max_bytes // (1024 * 1024)} MB",
                           f"file too large: the limit is {rules.max_bytes} bytes", field="file")
    if (content_type not in rules.allowed_types or not data.startswith(_MAGIC.get(content_type, (b"\0\0never",)))
            or content_types.parsed_type(data) != content_type):
        raise InvalidInput("file_type_refused", f"只接受以下类型的文件：{', '.join(rules.allowed_types)}（内容须与类型一致）",
                           f"only {', '.join(rules.allowed_types)} files are accepted, with matching content",
                           field="file")
    digest = hashlib.sha256(data).hexdigest()
    folder = evidence_root() / str(order.id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}{_EXTENSION[content_type]}"
    if not target.exists():
        # Write to a temporary file and rename: a crash never leaves half a file under the real name.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
        session.info.setdefault(_WRITTEN, []).append(target)  # removed again if the transaction rolls back
    now = utcnow()
    evidence = Evidence(order_id=order.id, filename=content_types.served_name(safe_filename(filename), content_type),
                        content_type=content_type,
                        size_bytes=len(data), sha256=digest, stored_path=str(target.relative_to(evidence_root())),
                        uploaded_by_id=actor.id, uploaded_at=now)
    session.add(evidence)
    session.flush()
    audit.record(session=session, actor=actor.username, action="order.evidence_added", entity_type="order",
                 entity_id=order.id, after={"evidence_id": evidence.id, "filename": evidence.filename,
                                            "sha256": digest, "size_bytes": len(data)}, at=now)
    return evidence


_WRITTEN = "lianban.evidence.written"


@event.listens_for(OrmSession, "after_commit")
def _keep_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(OrmSession, "after_transaction_end")
def _remove_written_on_rollback(session: Session, transaction) -> None:
    """Files of a transaction that did not commit (after_commit took the committed ones away)."""
    if transaction.parent is not None:
        return
    for path in session.info.pop(_WRITTEN, []):
        Path(path).unlink(missing_ok=True)


def list_for_order(*, session: Session, actor: User, order_id: int) -> list[Evidence]:
    order = orders.get(session=session, actor=actor, order_id=order_id)
    return list(session.exec(select(Evidence).where(Evidence.order_id == order.id).order_by(Evidence.id)).all())


def read(*, session: Session, actor: User, evidence_id: int) -> tuple[Evidence, bytes]:
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        orders.get(session=session, actor=actor, order_id=-1)  # raises the same not-found
    orders.get(session=session, actor=actor, order_id=evidence.order_id)
    return evidence, (evidence_root() / evidence.stored_path).read_bytes()
