"""Issuing, correcting, revoking, re-rendering and verifying official documents.

Each function is one short transaction in the caller's session: it changes the rows, writes the
PDF file (removed again if the transaction rolls back) and appends its audit event. Issuing
allocates the number in the same transaction (`numbering.allocate`), so an issue that fails
leaves no gap and two issuers never share a number.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.documents import codes, numbering, render, storage
from domain.documents.machine import DOCUMENT, ISSUER_ROLES
from domain.documents.models import KIND_NAMES_ZH, KINDS, Document, DocumentRendition
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.policy import current_policy
from domain.timeutil import SHANGHAI, utcnow
from domain.users.models import User
from policies.loader import PolicySet

READER_ROLES = ("office", "admin", "auditor")

# Who may change a document's status from which to which: its machine (domain/documents/machine.py).

_LIMITS = {"addressee": 200, "title": 200, "paragraph": 2000, "cell": 200, "cc": 100}
_MAX_PARAGRAPHS, _MAX_MEASURES, _MAX_CC = 50, 50, 20
_MAX_TABLES, _MAX_TABLE_ROWS = 12, 200


@dataclass(frozen=True)
class MeasureRow:
    """One row of the measures table: what, by whom, by when (as the document prints it)."""
    measure: str
    unit: str | None = None
    deadline: str | None = None


@dataclass(frozen=True)
class TableIn:
    """A table printed after the measures (e.g. a circular's ranking): caption, headings, rows of text."""
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class DocumentIn:
    kind: str
    addressee: str  # 主送机关
    title: str
    paragraphs: list[str]
    measures: list[MeasureRow] = field(default_factory=list)
    tables: list[TableIn] = field(default_factory=list)  # stored only when given (older documents have none)
    cc: list[str] | None = None  # 抄送; None: the policy's default list
    order_id: int | None = None
    # Automatic issuers (flows) pass one, e.g. "order:12:supervision_order": a retry, a restart or a
    # nudge and a sweep together get the first document back, never a second number.
    idempotency_key: str | None = None


Actor = User | str  # a person (role-checked) or a system actor such as "system:orders-flow"


def actor_name_of(actor: Actor) -> str:
    return actor if isinstance(actor, str) else actor.username


def _actor_name(actor: Actor, roles: tuple[str, ...]) -> str:
    if isinstance(actor, str):
        return actor
    if actor.role not in roles:
        raise Forbidden("documents_forbidden", "您的角色无权执行此操作（公文）",
                        f"role '{actor.role}' may not do this with documents")
    return actor.username


def _clean(value: str | None, label_zh: str, field_name: str, limit: int, *, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"missing_{field_name}", f"{label_zh}不能为空", f"{field_name} must not be empty",
                               field=field_name)
        return None
    if len(text) > limit or any(ord(c) < 32 for c in text):
        raise InvalidInput(f"bad_{field_name}", f"{label_zh}最长 {limit} 个字符，且不能含控制字符",
                           f"{field_name} must be at most {limit} printable characters", field=field_name)
    return text


def _validated_content(doc_in: DocumentIn, policy: PolicySet) -> dict:
    if doc_in.kind not in KINDS:
        raise InvalidInput("unknown_kind", f"公文种类“{doc_in.kind}”不存在，可选：{'、'.join(KINDS)}",
                           f"unknown document kind {doc_in.kind!r}", field="kind")
    if not doc_in.paragraphs or len(doc_in.paragraphs) > _MAX_PARAGRAPHS:
        raise InvalidInput("bad_paragraphs", f"正文须有 1 至 {_MAX_PARAGRAPHS} 段",
                           f"give 1 to {_MAX_PARAGRAPHS} paragraphs", field="paragraphs")
    if len(doc_in.measures) > _MAX_MEASURES:
        raise InvalidInput("too_many_measures", f"措施表最多 {_MAX_MEASURES} 行",
                           f"at most {_MAX_MEASURES} measure rows", field="measures")
    cc = policy.documents.default_cc if doc_in.cc is None else doc_in.cc
    if len(cc) > _MAX_CC:
        raise InvalidInput("too_many_cc", f"抄送机关最多 {_MAX_CC} 个", f"at most {_MAX_CC} copy-to bodies", field="cc")
    documents = policy.documents
    return {
        "issuing_body": documents.issuing_body,
        "header": documents.header,
        "printed_by": documents.printed_by,
        "addressee": _clean(doc_in.addressee, "主送机关", "addressee", _LIMITS["addressee"]),
        "title": _clean(doc_in.title, "标题", "title", _LIMITS["title"]),
        "paragraphs": [_clean(p, "正文段落", "paragraphs", _LIMITS["paragraph"]) for p in doc_in.paragraphs],
        "measures": [{"measure": _clean(m.measure, "措施", "measures", _LIMITS["cell"]),
                      "unit": _clean(m.unit, "责任单位", "measures", _LIMITS["cell"], required=False),
                      "deadline": _clean(m.deadline, "时限", "measures", _LIMITS["cell"], required=False)}
                     for m in doc_in.measures],
        "cc": [_clean(c, "抄送机关", "cc", _LIMITS["cc"]) for c in cc],
        "policy_version": policy.file_version("documents"),
        **({"tables": _validated_tables(doc_in.tables)} if doc_in.tables else {}),
    }


def _validated_tables(tables: list[TableIn]) -> list[dict]:
    if len(tables) > _MAX_TABLES or any(len(t.rows) > _MAX_TABLE_ROWS or not 1 <= len(t.columns) <= 8 for t in tables):
        raise InvalidInput("bad_tables", f"最多 {_MAX_TABLES} 个表，每表 1 至 8 列、最多 {_MAX_TABLE_ROWS} 行",
                           f"at most {_MAX_TABLES} tables of 1 to 8 columns and {_MAX_TABLE_ROWS} rows", field="tables")
    if any(len(row) != len(t.columns) for t in tables for row in t.rows):
        raise InvalidInput("bad_tables", "表格每行的列数须与表头一致", "every row needs one cell per column", field="tables")
    return [{"caption": _clean(t.caption, "表题", "tables", _LIMITS["title"]),
             "columns": [_clean(c, "表头", "tables", _LIMITS["cell"]) for c in t.columns],
             "rows": [[_clean(cell, "表格内容", "tables", _LIMITS["cell"], required=False) or "" for cell in row]
                      for row in t.rows]}
            for t in tables]


def public_view(doc: Document) -> dict:
    """What the audit trail records and the verification page may show (all printed on the PDF)."""
    return {"number": doc.number, "kind": doc.kind, "version": doc.version, "status": doc.status,
            "addressee": doc.addressee, "title": doc.title, "issued_at": doc.issued_at.isoformat(),
            "sha256": doc.sha256, "supersedes_id": doc.supersedes_id, "order_id": doc.order_id}


def _render(doc: Document) -> bytes:
    return render.render_pdf(kind=doc.kind, number=doc.number, version=doc.version,
                             verification_code=doc.verification_code, issued_at=doc.issued_at, content=doc.content)


def _store(*, session: Session, doc: Document, pdf: bytes, now: datetime) -> None:
    """Write the PDF and make it the document's current one (and a rendition, if new)."""
    digest = storage.sha256_hex(pdf)
    doc.sha256 = digest
    doc.pdf_path = storage.relative_path(year=doc.year, verification_code=doc.verification_code, sha256=digest)
    storage.write(session=session, relative=doc.pdf_path, data=pdf)
    session.add(doc)
    session.flush()
    if session.exec(select(DocumentRendition.id).where(DocumentRendition.sha256 == digest)).first() is None:
        session.add(DocumentRendition(document_id=doc.id, sha256=digest, size_bytes=len(pdf), rendered_at=now))
        session.flush()


def issue(*, session: Session, actor: Actor, document_in: DocumentIn, policy: PolicySet | None = None,
          now: datetime | None = None) -> Document:
    """Number, render and store a new document (version 1)."""
    actor_name = _actor_name(actor, ISSUER_ROLES)
    policy = policy or current_policy()
    content = _validated_content(document_in, policy)
    key = _clean(document_in.idempotency_key, "幂等键", "idempotency_key", 120, required=False)
    if key and (done := _by_key(session, key)) is not None:
        return done
    now = now or utcnow()
    code, year = policy.documents.issuing_code, now.astimezone(SHANGHAI).year  # 〔year〕 is the Beijing year
    sequence = numbering.lock(session=session, issuing_code=code, year=year)
    # Checked again under the lock: a concurrent issuer with the same key has committed by now.
    if key and (done := _by_key(session, key)) is not None:
        return done
    serial = numbering.take(session=session, sequence=sequence)
    doc = Document(kind=document_in.kind, issuing_code=code, year=year, serial=serial,
                   number=numbering.format_number(code, year, serial), version=1, status="in_force",
                   order_id=document_in.order_id, idempotency_key=key,
                   addressee=content["addressee"], title=content["title"],
                   issued_at=now, issued_by=actor_name, pdf_path="", sha256="",
                   verification_code=codes.new_code(), content=content)
    _store(session=session, doc=doc, pdf=_render(doc), now=now)
    audit.record(session=session, actor=actor_name, action="document.issued", entity_type="document",
                 entity_id=doc.id, after=public_view(doc), at=now, rule=f"documents@{content['policy_version'][:12]}")
    return doc


def _by_key(session: Session, key: str) -> Document | None:
    return session.exec(select(Document).where(Document.idempotency_key == key)
                        .execution_options(populate_existing=True)).first()


def _locked(session: Session, document_id: int) -> Document:
    doc = session.exec(select(Document).where(Document.id == document_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if doc is None:
        raise NotFound("document_not_found", f"公文 {document_id} 不存在", f"document {document_id} does not exist")
    return doc


def reissue(*, session: Session, actor: Actor, document_id: int, correction: DocumentIn,
            policy: PolicySet | None = None, now: datetime | None = None) -> Document:
    """A corrected re-issue: the same number as the next version, with a new verification code;
    the version it corrects becomes superseded. The kind and the issuing body stay those of the
    original (the number belongs to them)."""
    # Who asks is checked first: a refusal tells nothing of the document.
    DOCUMENT.check_role(session=session, actor=actor, action="supersede", entity_id=document_id)
    old = _locked(session, document_id)
    actor_name = actor_name_of(actor)
    DOCUMENT.check(session=session, actor=actor, obj=old, action="supersede")
    policy = policy or current_policy()
    if correction.kind != old.kind:
        raise InvalidInput("kind_cannot_change", f"更正不能改变公文种类（原为{KIND_NAMES_ZH[old.kind]}），请另行发文",
                           "a correction cannot change the kind; issue a new document instead", field="kind")
    content = _validated_content(correction, policy)
    for key in ("issuing_body", "header", "printed_by"):
        content[key] = old.content[key]
    now = now or utcnow()
    before = public_view(old)
    DOCUMENT.apply(session=session, actor=actor, obj=old, action="supersede", before=before,
                   after=public_view(old) | {"status": "superseded"}, now=now)
    new = Document(kind=old.kind, issuing_code=old.issuing_code, year=old.year, serial=old.serial,
                   number=old.number, version=old.version + 1, supersedes_id=old.id, status="in_force",
                   order_id=correction.order_id if correction.order_id is not None else old.order_id,
                   addressee=content["addressee"], title=content["title"], issued_at=now, issued_by=actor_name,
                   pdf_path="", sha256="", verification_code=codes.new_code(), content=content)
    try:
        _store(session=session, doc=new, pdf=_render(new), now=now)
    except IntegrityError:  # the row lock prevents this; the unique supersedes_id is the backstop
        raise Conflict("document_already_corrected", f"{old.number}第{old.version}版已被更正",
                       f"version {old.version} of {old.number} was already corrected") from None
    audit.record(session=session, actor=actor_name, action="document.reissued", entity_type="document",
                 entity_id=new.id, after=public_view(new), at=now, rule=f"documents@{content['policy_version'][:12]}")
    return new


def revoke(*, session: Session, actor: Actor, document_id: int, reason: str, now: datetime | None = None) -> Document:
    # Who asks is checked first: a refusal tells nothing of the document.
    DOCUMENT.check_role(session=session, actor=actor, action="revoke", entity_id=document_id)
    doc = _locked(session, document_id)
    DOCUMENT.check(session=session, actor=actor, obj=doc, action="revoke")
    reason = _clean(reason, "撤销理由", "reason", 500)
    now = now or utcnow()
    before = public_view(doc)
    DOCUMENT.apply(session=session, actor=actor, obj=doc, action="revoke", values={"revoked_at": now,
                   "revoke_reason": reason}, before=before, after={**public_view(doc), "status": "revoked",
                                                                  "reason": reason}, now=now)
    return doc


def rerender(*, session: Session, actor: Actor, document_id: int, now: datetime | None = None) -> Document:
    """Render a stored document again from its content: same number, version, code and date.

    Unchanged templates reproduce the same bytes, and only a missing file is written back. Changed
    templates give a new PDF: it becomes the current one (a new rendition, audited); copies of the
    earlier PDF still verify as genuine.
    """
    actor_name = _actor_name(actor, ISSUER_ROLES)
    doc = _locked(session, document_id)
    pdf = _render(doc)
    if storage.sha256_hex(pdf) == doc.sha256:
        storage.write(session=session, relative=doc.pdf_path, data=pdf)  # no-op if the file is there
        return doc
    now = now or utcnow()
    before = public_view(doc)
    _store(session=session, doc=doc, pdf=pdf, now=now)
    audit.record(session=session, actor=actor_name, action="document.rerendered", entity_type="document",
                 entity_id=doc.id, before=before, after=public_view(doc), at=now)
    return doc


def get(*, session: Session, actor: Actor, document_id: int) -> Document:
    _actor_name(actor, READER_ROLES)
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("document_not_found", f"公文 {document_id} 不存在", f"document {document_id} does not exist")
    return doc


def pdf_bytes(*, session: Session, actor: Actor, document_id: int) -> tuple[Document, bytes]:
    """The document's current PDF, checked against its stored hash (a damaged file is refused)."""
    doc = get(session=session, actor=actor, document_id=document_id)
    data = storage.read(doc.pdf_path)
    if data is None or storage.sha256_hex(data) != doc.sha256:
        raise Conflict("document_file_unavailable", f"{doc.number} 的 PDF 文件缺失或已损坏，请管理员重新生成",
                       f"the PDF file of document {doc.id} is missing or damaged; re-render it")
    return doc, data


def by_verification_code(*, session: Session, code: str) -> Document | None:
    """The document of a verification code as typed (any case, dashes, O for 0 …), or None."""
    normalised = codes.normalise(code)
    if normalised is None:
        return None
    return session.exec(select(Document).where(Document.verification_code == normalised)).first()


def match_pdf(*, session: Session, data: bytes) -> Document | None:
    """The document whose PDF (any rendition) has exactly these bytes, or None."""
    digest = storage.sha256_hex(data)
    return session.exec(select(Document).join(DocumentRendition, DocumentRendition.document_id == Document.id)
                        .where(DocumentRendition.sha256 == digest)).first()
