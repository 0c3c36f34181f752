"""Showing a case's masked victim data in full to the office, on purpose.

The case page and every list show the victim's phone masked (138****2222). The office may need to
call the victim: one click with a reason shows the full value for this request only, and the
asking is audited — who, which case, which field, why — never the value itself.
"""
from sqlmodel import Session

from domain.audit import service as audit
from domain.cases import service as cases
from domain.errors import Forbidden, InvalidInput
from domain.timeutil import utcnow
from domain.users.models import User

REVEALER_ROLES = ("office", "admin")
MAX_REASON = 200
# field → (its name in Chinese, in English)
REVEALABLE = {"victim_phone": ("受害人电话", "victim's phone")}


def reason_given(reason: object) -> str:
    """Why the person needs the full value: 2 to 200 printable characters."""
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) < 2 or len(text) > MAX_REASON or any(ord(c) < 32 for c in text):
        raise InvalidInput("reveal_reason_required", f"请写明查看完整信息的事由（2至{MAX_REASON}字），如“电话联系受害人核实案情”",
                           f"say why you need the full value (2 to {MAX_REASON} characters), "
                           "e.g. \"to call the victim\"", field="reason")
    return text


def reveal(*, session: Session, actor: User, case_id: int, field: str = "victim_phone", reason: str) -> dict:
    """The full value of one masked field of a case, for the office; audited without the value."""
    if actor.role not in REVEALER_ROLES:
        raise Forbidden("reveal_forbidden", "只有联办工作人员可以查看受害人完整信息",
                        "only the office may see the victim's full details")
    case = cases.get(session=session, actor=actor, case_id=case_id)
    if field not in REVEALABLE:
        raise InvalidInput("nothing_to_reveal", "该项信息没有遮蔽，无需查看", f"{field} is not masked", field="field")
    why = reason_given(reason)
    label_zh, label_en = REVEALABLE[field]
    audit.record(session=session, actor=actor.username, action="case.identity_revealed", entity_type="case",
                 entity_id=case.id, after={"field": field, "reason": why}, rule="cases.reveal", at=utcnow())
    return {"field": field, "label_zh": label_zh, "label_en": label_en, "value": getattr(case, field)}
