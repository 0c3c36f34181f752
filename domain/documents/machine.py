"""A document's status as one table (domain.transitions): in force → superseded by a corrected
version, or revoked. Issuers are the office, the admin and the flows (system actors)."""
from domain.documents.models import STATUS_NAMES_ZH, Document
from domain.errors import Conflict, DomainError, Forbidden
from domain.transitions import SYSTEM, Machine, Move

ISSUER_ROLES = ("office", "admin")


def _wording(kind: str, doc: Document | None, action: str) -> DomainError | None:
    if kind == "role":
        return Forbidden("documents_forbidden", "您的角色无权执行此操作（公文）", "your role may not do this with documents")
    target = DOCUMENT.move_for(action).target
    return Conflict("document_transition_forbidden",
                    f"{doc.number}（第{doc.version}版）当前状态为“{STATUS_NAMES_ZH[doc.status]}”，"
                    f"不能改为“{STATUS_NAMES_ZH[target]}”",
                    f"document {doc.id} is {doc.status} and cannot become {target}")


DOCUMENT = Machine(
    entity="document", model=Document, state_names_zh=STATUS_NAMES_ZH, wording=_wording,
    moves=(
        Move("supersede", ("in_force",), "superseded", (*ISSUER_ROLES, SYSTEM), label_zh="更正"),
        Move("revoke", ("in_force",), "revoked", (*ISSUER_ROLES, SYSTEM), label_zh="撤销"),
    ))
