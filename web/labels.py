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
    "case.stage_changed": N_("Stage changed"),
    "case.result_recorded": N_("Result recorded"),
    "case.closed": N_("Case closed"),
    "case.reopened": N_("Case reopened"),
    "case.resubmitted": N_("Submitted to the leader again"),
    "case.refused": N_("Attempt refused"),
    "order.refused": N_("Attempt refused"),
    "approval.refused": N_("Attempt refused"),
    "document.refused": N_("Attempt refused"),
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
    "order.issued": N_("Order issued"),
    "order.acknowledged": N_("Acknowledged"),
    "order.in_progress": N_("Work started"),
    "order.reported": N_("Reported back"),
    "order.accepted": N_("Accepted"),
    "order.returned": N_("Returned for rework"),
    "order.closed": N_("Closed"),
    "order.cancelled": N_("Cancelled"),
    "order.reminded": N_("Reminded: deadline passed"),
    "order.escalated": N_("Listed for supervision"),
    "order.evidence_added": N_("Evidence added"),
    "order.identity_revealed": N_("Full identifier viewed"),
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
    "report_text": N_("Report"),
    "reported_amount_fen": N_("Amount held"),
    "review_comment": N_("Review comment"),
    "cancelled_reason": N_("Reason for cancelling"),
    "filename": N_("File"),
}

# 指令 statuses (domain.orders.models.STATUS_NAMES_ZH has the office's words: the zh catalogue's).
ORDER_STATUSES = {
    "issued": N_("Awaiting acknowledgement"),
    "acknowledged": N_("Acknowledged"),
    "in_progress": N_("In progress"),
    "reported": N_("Reported back"),
    "accepted": N_("Accepted"),
    "returned": N_("Returned for rework"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

# Order kinds in English; in Chinese the UI shows the policy's own label_zh (policies/*/orders.yaml).
ORDER_KINDS = {
    "stop_payment": N_("Emergency stop-payment"),
    "freeze": N_("Rapid freeze"),
    "card_issuance_suspension": N_("Suspend new debit cards and self-service issuance"),
    "interview_notice": N_("Interview notice"),
    "circulated_criticism": N_("Public criticism"),
    "rectification_report": N_("Rectification report"),
    "lift_measure": N_("Lift a measure"),
    "outlet_suspension": N_("Suspension of business"),
    "inspection": N_("Rectification inspection"),
    "insider_referral": N_("Insider lead referral"),
    "disciplinary_measure": N_("Disciplinary measure"),
    "dissuasion_visit": N_("Dissuasion visit"),
    "dissuasion_call": N_("Dissuasion call"),
    "dissuasion_sms": N_("Dissuasion text message"),
    "supervision": N_("Supervision"),
}

# Reported outcomes in English; in Chinese the domain's names (domain.orders.overview.OUTCOME_NAMES_ZH).
ORDER_OUTCOMES = {
    "dissuaded": N_("Dissuaded"),
    "not_reached": N_("Could not be reached"),
    "already_lost": N_("Already defrauded (case opened)"),
    "criminal_detention": N_("Criminal detention"),
    "administrative_penalty": N_("Administrative penalty"),
    "education_discipline": N_("Criticism and disciplinary action"),
    "no_case": N_("No evidence found, no case opened"),
}

NOTICE_KINDS = {
    "new_order": N_("New order"),
    "reminder": N_("Reminder"),
    "escalation": N_("Listed for supervision"),
    "returned": N_("Returned for rework"),
    "outcome": N_("Outcome"),
}
