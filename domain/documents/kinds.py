"""The kinds of official document (公文) the office issues, declared once: the name printed on it
and on the verification page, and the word its title ends with (关于…的督办通知)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentKind:
    name: str
    name_zh: str     # 督办通知书: printed, and shown on the verification page
    title_zh: str    # 督办通知: 关于<the order's title>的<title_zh>


DOCUMENT_KINDS: dict[str, DocumentKind] = {k.name: k for k in (
    DocumentKind("supervision_order", "督办通知书", "督办通知"),
    DocumentKind("reverse_audit_order", "倒查通知", "倒查通知"),
    DocumentKind("suspension_order", "停业整顿通知书", "停业整顿通知"),
    DocumentKind("interview_notice", "约谈通知书", "约谈通知"),
    DocumentKind("referral_letter", "线索移送函", "线索移送函"),
    DocumentKind("stop_payment_notice", "紧急止付通知书", "紧急止付通知"),
    DocumentKind("freeze_notice", "协助冻结通知书", "冻结通知"),
    DocumentKind("circular", "通报", "通报"),
    DocumentKind("rectification_notice", "整改通知书", "整改通知"),
    DocumentKind("disciplinary_notice", "协助惩戒通知书", "协助惩戒通知"),
    DocumentKind("dissuasion_order", "预警劝阻指令", "预警劝阻指令"),
)}
