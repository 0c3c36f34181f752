"""The kinds of order (指令) the office sends member units, declared once: the name, how the UI
names it in Chinese and in English, and the official document that carries it, if any. Their
deadlines are policy (orders.yaml: one entry per kind)."""
from dataclasses import dataclass

from domain.documents.kinds import DOCUMENT_KINDS
from domain.errors import InvalidInput


@dataclass(frozen=True)
class OrderKind:
    name: str
    label_zh: str
    label_en: str
    document: str | None = None   # a domain.documents.kinds name; the flow numbers and renders it

    def __post_init__(self) -> None:
        if self.document is not None and self.document not in DOCUMENT_KINDS:
            raise ValueError(f"order kind {self.name}: unknown document kind {self.document!r}")


_KINDS: dict[str, OrderKind] = {}


def declare(kind: OrderKind) -> OrderKind:
    _KINDS[kind.name] = kind
    return kind


def undeclare(name: str) -> None:
    """Tests that declare their own kind take it away again."""
    _KINDS.pop(name, None)


def get(name: str) -> OrderKind:
    kind = _KINDS.get(name)
    if kind is None:
        raise InvalidInput("unknown_order_kind", f"未知的指令类型：{name}", f"unknown order kind: {name}", field="kind")
    return kind


def all_kinds() -> dict[str, OrderKind]:
    return dict(_KINDS)


for _kind in (
    OrderKind("stop_payment", "紧急止付", "Emergency stop-payment", "stop_payment_notice"),
    OrderKind("freeze", "快速冻结", "Rapid freeze", "freeze_notice"),
    OrderKind("card_issuance_suspension", "暂停新开借记卡及自助办卡", "Suspend new debit cards and self-service issuance",
              "reverse_audit_order"),
    OrderKind("interview_notice", "约谈通知", "Interview notice", "interview_notice"),
    OrderKind("circulated_criticism", "通报批评", "Public criticism", "circular"),
    OrderKind("rectification_report", "整改报告", "Rectification report", "rectification_notice"),
    OrderKind("lift_measure", "解除措施", "Lift a measure"),
    OrderKind("outlet_suspension", "停业整顿", "Suspension of business", "suspension_order"),
    OrderKind("inspection", "整改验收", "Rectification inspection"),
    OrderKind("insider_referral", "行业内鬼线索移送", "Insider lead referral", "referral_letter"),
    OrderKind("disciplinary_measure", "惩戒措施", "Disciplinary measure", "disciplinary_notice"),
    OrderKind("dissuasion_visit", "上门劝阻", "Dissuasion visit", "dissuasion_order"),
    OrderKind("dissuasion_call", "电话人工劝阻", "Dissuasion call", "dissuasion_order"),
    OrderKind("dissuasion_sms", "短信劝阻", "Dissuasion text message", "dissuasion_order"),
    OrderKind("supervision", "督办", "Supervision", "supervision_order"),
):
    declare(_kind)
