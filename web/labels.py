"""How the UI names the domain's codes. The English texts are catalogue message ids (msgids):
the zh_CN catalogue gives the office's own words. `N_` only marks them for extraction."""
from collections.abc import Callable, Mapping


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
    "process.started": N_("Process started"),
    "process.stage": N_("Stage changed"),
    "process.refused": N_("Attempt refused"),
    "process.inspection_recorded": N_("Inspection recorded"),
    "process.appeal_recorded": N_("Appeal recorded"),
    "process.appeal_decided": N_("Appeal decided"),
    "process.renewal_asked": N_("The bank asked for a renewal"),
    "process.renewal_requested": N_("Freeze renewed"),
    "process.written_notice_due": N_("Written notice to be served"),
    "process.written_notice_served": N_("Written notice served"),
    "process.employer_told": N_("Employer told the outcome"),
    "process.case_registration_due": N_("Office asked to register a case"),
    "case.identity_revealed": N_("Victim's full phone viewed"),
    "document.issued": N_("Document issued"),
    "document.reissued": N_("Document reissued"),
    "document.rerendered": N_("Document rendered again"),
    "document.revoked": N_("Document revoked"),
    "document.superseded": N_("Document superseded"),
    "circulation.recorded": N_("Month ranked and circulated"),
    "circulation.document_attached": N_("Circular issued"),
    "circulation.card_yellow": N_("Yellow card"),
    "circulation.card_red": N_("Red card"),
    "circulation.listed": N_("Listed for rectification"),
    "circulation.delisted": N_("Delisted"),
    "fraud_account.recorded": N_("Fraud-involved account recorded"),
    "warnings.received": N_("Warnings received"),
}

# What an audit entry is about (its entity type).
ENTITY_TYPES = {
    "case": N_("Case"),
    "approval": N_("Approval"),
    "order": N_("Order"),
    "document": N_("Document"),
    "process": N_("Process"),
    "user": N_("User"),
    "circulation": N_("Circulation"),
    "circulation_card": N_("Card"),
    "circulation_listing": N_("Listing"),
    "fraud_account": N_("Fraud-involved account"),
    "warnings": N_("Warnings"),
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
    "outcome": N_("Outcome"),
    "round": N_("Round"),
    "held_until": N_("Held until"),
    "expires_at": N_("Frozen until"),
    "ends_at": N_("Measures end"),
    "decision": N_("Appeal decision"),
    "passed": N_("Inspection result"),
    "field": N_("Field"),
    "reason": N_("Reason"),
    "action": N_("Action"),
    "state": N_("State"),
    "case_number": N_("Case number"),
    "amount_fen": N_("Amount (fen)"),
    "fraud_type": N_("Fraud type"),
    "victim_name": N_("Victim"),
    "victim_phone": N_("Victim's phone"),
    "area_unit_id": N_("Area"),
    "tier_rule_id": N_("Rule"),
    "leader_id": N_("Leader in charge"),
    "title": N_("Title"),
    "kind": N_("Kind"),
    "solved_at": N_("Solved"),
    "suspects_caught": N_("People caught"),
    "recovered_fen": N_("Money returned (fen)"),
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

class _Derived(Mapping):
    """A table read from the domain's declarations on every look-up, so a kind registered later
    (a test's) is named too."""

    def __init__(self, read: Callable[[], dict[str, str]]):
        self._read = read

    def __getitem__(self, key: str) -> str:
        return self._read()[key]

    def __iter__(self):
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def _order_kinds() -> dict[str, str]:
    from domain.orders.kinds import all_kinds

    return {k.name: k.label_en for k in all_kinds().values()}


def _process_kinds() -> dict[str, str]:
    from domain.processes import registry

    return {k.name: k.label_en for k in registry.kinds()}


def _outcomes() -> dict[str, str]:
    from domain.processes import registry

    return {o.code: o.en for k in registry.kinds() for o in k.outcomes}


def _process_stages() -> dict[str, str]:
    from domain.processes import registry

    return {s.code: s.en for k in registry.kinds() for s in k.stages}


# Order kinds, process kinds, their stages and outcomes in English, as the domain declares them
# (domain/orders/kinds.py, domain/processes/registry.py); in Chinese the UI shows the domain's own names.
ORDER_KINDS: Mapping[str, str] = _Derived(_order_kinds)
PROCESS_KINDS: Mapping[str, str] = _Derived(_process_kinds)
PROCESS_STAGES: Mapping[str, str] = _Derived(_process_stages)
ORDER_OUTCOMES: Mapping[str, str] = _Derived(_outcomes)

NOTICE_KINDS = {
    "new_order": N_("New order"),
    "reminder": N_("Reminder"),
    "escalation": N_("Listed for supervision"),
    "returned": N_("Returned for rework"),
    "outcome": N_("Outcome"),
}
