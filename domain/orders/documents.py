"""The official document (PDF) that carries an order: built from the order, numbered and rendered
once (the idempotency key is the order), and readable by whoever may read the order."""
from sqlalchemy import update
from sqlmodel import Session, select

from domain.documents import service as documents
from domain.documents.kinds import DOCUMENT_KINDS
from domain.documents.models import Document
from domain.documents.service import _LIMITS as DOCUMENT_LIMITS
from domain.errors import NotFound
from domain.money import format_wan
from domain.orders import kinds as order_kinds
from domain.orders import service as orders
from domain.orders.models import Order
from domain.policy import current_policy
from domain.timeutil import SHANGHAI
from domain.units.models import Unit
from domain.users.models import User
from policies.schema import shown_basis

SYSTEM = "system:orders-flow"


def _when(moment) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日{local.hour:02d}:{local.minute:02d}前"


def document_in(*, session: Session, order: Order) -> documents.DocumentIn:
    policy = current_policy()
    rules, kind = policy.orders.kinds[order.kind], order_kinds.get(order.kind)
    addressee = session.get(Unit, order.addressee_unit_id)
    details = order.details_dict
    # One paragraph per line of the instructions (a document paragraph holds no line breaks), each
    # within the document's paragraph limit: an order's document must always be issuable.
    size = DOCUMENT_LIMITS["paragraph"]
    lines = [" ".join(line.split()) for line in (order.instructions or "").splitlines() if line.strip()]
    paragraphs = [line[i:i + size] for line in lines for i in range(0, len(line), size)] \
        or [f"请按要求办理：{order.title}。"]
    if "account" in details:
        account = details["account"]
        paragraphs.append(f"涉及账户：{account[:4]}****{account[-4:]}；金额：{format_wan(details['amount_fen'])}。")
    paragraphs.append(f"请于{_when(order.acknowledge_by)}签收，{_when(order.complete_by)}办结并反馈办理结果；"
                      f"逾期未办的，将予以催办并挂牌督办。")
    if shown_basis(rules):
        paragraphs.append(f"依据：{shown_basis(rules)}。")
    return documents.DocumentIn(
        kind=kind.document, addressee=addressee.name, title=_title(order.title, kind.document),
        paragraphs=paragraphs, order_id=order.id, idempotency_key=f"order:{order.id}",
        measures=[documents.MeasureRow(measure=kind.label_zh, unit=addressee.name,
                                       deadline=_when(order.complete_by).removesuffix("前"))])


def _kind_title(kind: str) -> str:
    return DOCUMENT_KINDS[kind].title_zh if kind in DOCUMENT_KINDS else "通知"


def _title(order_title: str, kind: str) -> str:
    """关于…的督办通知, or the order's own title where that would pass the document's title limit."""
    title = f"关于{order_title}的{_kind_title(kind)}"
    return title if len(title) <= DOCUMENT_LIMITS["title"] else order_title[:DOCUMENT_LIMITS["title"]]


def due(*, session: Session, limit: int = 100) -> list[int]:
    return list(session.exec(select(Order.id).where(Order.document_due == True)  # noqa: E712
                             .order_by(Order.id).limit(limit)).all())


def issue_for(*, session: Session, order_id: int) -> Document | None:
    """Number and render the order's document, once; None when nothing was due."""
    order = session.get(Order, order_id)
    if order is None or not order.document_due:
        return None
    if order.status == "cancelled":
        session.execute(update(Order).where(Order.id == order_id).values(document_due=False))
        return None
    doc = documents.issue(session=session, actor=SYSTEM, document_in=document_in(session=session, order=order))
    session.execute(update(Order).where(Order.id == order_id).values(document_due=False, document_id=doc.id))
    return doc


def pdf_for_order(*, session: Session, actor: User, order_id: int) -> tuple[Document, bytes]:
    """The PDF of an order the actor may see (a liaison gets only their unit's)."""
    order = orders.get(session=session, actor=actor, order_id=order_id)
    if order.document_id is None:
        raise NotFound("order_has_no_document", "该指令暂无正式文书（生成中或无需文书）",
                       "this order has no document (yet)")
    return documents.pdf_bytes(session=session, actor=SYSTEM, document_id=order.document_id)
