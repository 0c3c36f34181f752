"""How the UI names the domain's codes. The English texts are catalogue message ids (msgids):
the zh_CN catalogue gives the office's own words. `N_` only marks them for extraction."""


def N_(message: str) -> str:  # noqa: N802 — the gettext convention
    return message


# 研、交、办、督、结 (seed 000's closed loop)
STAGES = {
    "research": N_("Research"),
    "handover": N_("Hand over"),
    "handling": N_("Handle"),
    "supervision": N_("Supervise"),
    "closed": N_("Close"),
}

ESCALATION_STATES = {
    "none": N_("Below every tier"),
    "awaiting": N_("Awaiting a leader"),
    "taken": N_("Taken by a leader"),
    "returned": N_("Returned by the leader"),
}

ROLES = {
    "office": N_("Office staff"),
    "liaison": N_("Member-unit liaison"),
    "leader": N_("Leader"),
    "police": N_("Police unit"),
    "auditor": N_("Auditor"),
    "admin": N_("Administrator"),
}

LEADER_TIERS = {
    "chief": N_("Bureau chief"),
    "deputy": N_("Deputy chief in charge"),
    "cid_head": N_("CID detachment head"),
    "none": N_("No leader tier"),
}

APPROVAL_STATUSES = {
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "returned": N_("Returned"),
    "escalated": N_("Moved up a tier"),
}

AUDIT_ACTIONS = {
    "case.registered": N_("Case registered"),
    "case.taken": N_("Leader took the case"),
    "case.listed_for_supervision": N_("Listed for supervision"),
    "case.returned": N_("Returned to the office"),
    "approval.requested": N_("Approval requested"),
    "approval.approved": N_("Approved"),
    "approval.returned": N_("Returned with a comment"),
    "approval.reminded": N_("Leader reminded"),
    "approval.escalated": N_("Moved up a tier (deadline passed)"),
    "user.created": N_("User created"),
    "user.assigned": N_("User's unit or role changed"),
    "user.deactivated": N_("User deactivated"),
    "user.reactivated": N_("User reactivated"),
    "user.password_changed": N_("Password changed"),
    "user.password_reset": N_("Password reset by an administrator"),
}

# Fraud types the office registers most (free text; these are only suggestions, stored as typed).
FRAUD_TYPE_SUGGESTIONS = ("冒充领导", "冒充公检法", "冒充客服", "虚假投资理财", "刷单返利", "虚假网络贷款",
                          "网络婚恋交友", "虚假购物", "游戏产品虚假交易", "冒充熟人")

# Fields a timeline entry shows when they changed.
CHANGE_FIELDS = {
    "stage": N_("Stage"),
    "escalation_state": N_("Escalation"),
    "status": N_("Status"),
    "leader_tier": N_("Leader tier"),
    "next_tier": N_("Next tier"),
    "supervised": N_("Listed for supervision"),
    "comment": N_("Comment"),
    "return_comment": N_("Leader's comment"),
}
