"""A case's two tables (domain.transitions): its stage along 研→交→办→督→结, and where its
escalation to a leader stands. Each move names its trigger.

A leader's return changes only the escalation state: a case never goes back past a stage it has
reached (a handed-over case stays 交)."""
from domain.cases.models import STAGE_NAMES_ZH, Case
from domain.errors import Conflict, DomainError
from domain.transitions import SYSTEM, Machine, Move

OFFICE_ROLES = ("office", "admin")
ESCALATION_NAMES_ZH = {"none": "无需呈报", "awaiting": "待领导审批", "taken": "领导已包案", "returned": "领导已退回"}


def _stage_wording(kind: str, case: Case | None, action: str) -> DomainError | None:
    if kind == "role":
        return None
    stage = STAGE_NAMES_ZH.get(case.stage, case.stage)
    if kind == "changed":
        return Conflict("case_changed", f"案件已被他人处理（当前阶段：{stage}）", f"the case was changed meanwhile; it is now {case.stage}")
    move = CASE_STAGE.move_for(action)
    return Conflict("bad_stage", f"案件当前处于“{stage}”阶段，不能{move.label_zh}",
                    f"a case in stage {case.stage} cannot be moved by {action!r}")


def _escalation_wording(kind: str, case: Case | None, action: str) -> DomainError | None:
    if kind == "role":
        return None
    state = ESCALATION_NAMES_ZH.get(case.escalation_state, case.escalation_state)
    move = CASE_ESCALATION.move_for(action)
    return Conflict("bad_escalation_state", f"案件呈报状态为“{state}”，不能{move.label_zh}",
                    f"a case whose escalation is {case.escalation_state} cannot be moved by {action!r}")


CASE_STAGE = Machine(
    entity="case", model=Case, status_field="stage", state_names_zh=STAGE_NAMES_ZH, wording=_stage_wording,
    moves=(
        # 研→交: the office issues the case's first order (or a process does, for the office).
        Move("hand_over", ("research",), "handover", (*OFFICE_ROLES, SYSTEM), audit_action="case.stage_changed",
             label_zh="移交", label_en="hand over"),
        # →办: the leader takes it (包案), recorded by the escalation flow after the approval.
        Move("take", ("research", "handover"), "handling", (SYSTEM,), audit_action="case.stage_changed",
             label_zh="包案办理", label_en="take"),
        # 办→督: listed for supervision (挂牌督办) where the leader's tier rule says so.
        Move("supervise", ("handling",), "supervision", (SYSTEM,), audit_action="case.listed_for_supervision",
             label_zh="挂牌督办", label_en="list for supervision"),
        # →结: the office closes it, solved (破案) or not, under policies/*/cases.yaml.
        Move("close", ("research", "handover", "handling", "supervision"), "closed", OFFICE_ROLES,
             audit_action="case.closed", label_zh="结案", label_en="close"),
        # 结→办: new facts; the case is handled again.
        Move("reopen", ("closed",), "handling", OFFICE_ROLES, audit_action="case.reopened",
             label_zh="重新启动", label_en="reopen"),
    ))

CASE_ESCALATION = Machine(
    entity="case", key="case_escalation", model=Case, status_field="escalation_state",
    state_names_zh=ESCALATION_NAMES_ZH, wording=_escalation_wording,
    moves=(
        Move("take", ("awaiting",), "taken", (SYSTEM,), audit_action="case.taken", label_zh="包案"),
        Move("return", ("awaiting",), "returned", (SYSTEM,), audit_action="case.returned", label_zh="退回"),
        # The office corrects a returned case and submits it again: a new approval, tier decided anew.
        Move("resubmit", ("returned",), "awaiting", OFFICE_ROLES, audit_action="case.resubmitted",
             label_zh="重新呈报", label_en="resubmit"),
    ))
