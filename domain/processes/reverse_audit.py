"""倒查: a bank sub-branch that opened too many fraud-involved accounts in a quarter.

Jingzhou (seed 000): the office ordered the bank's city branch to suspend the sub-branch's new
debit cards and self-service card issuance, interviewed its manager, circulated criticism of two
clerks, required a rectification report, and lifted the suspension once the report was accepted.
"""
import re
from datetime import datetime

from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.errors import InvalidInput
from domain.policy import current_policy
from domain.processes import registry
from domain.processes import service as processes
from domain.processes.registry import Fact, FormField, Outcome, ProcessEntry, ProcessKind, Stage, stage_move
from domain.processes.models import FraudAccount, Process
from domain.timeutil import SHANGHAI, as_utc, plausible_past, utcnow
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from policies.schema import DisplayBasis, Strict

BANK_UNIT_KINDS = ("bank_branch", "bank_outlet")


class ReverseAuditRules(Strict):
    trigger_accounts_per_quarter: int = Field(ge=1)
    basis: str
    display_basis: DisplayBasis


def quarter_of(moment: datetime) -> tuple[int, int, datetime, datetime]:
    """(year, quarter, start, end) of the Beijing-time quarter holding `moment`; bounds in UTC."""
    local = moment.astimezone(SHANGHAI)
    quarter = (local.month - 1) // 3 + 1
    start = datetime(local.year, 3 * quarter - 2, 1, tzinfo=SHANGHAI)
    end = datetime(local.year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1, tzinfo=SHANGHAI)
    return local.year, quarter, as_utc(start), as_utc(end)


def normalize_account(raw: str, field: str = "account_number") -> str:
    digits = re.sub(r"[\s-]", "", raw or "")
    if not re.fullmatch(r"\d{10,30}", digits):
        raise InvalidInput("bad_account_number", "账号须为10至30位数字", "an account number is 10 to 30 digits",
                           field=field)
    return digits


def mask_account(account: str) -> str:
    return f"{account[:4]}****{account[-4:]}"


def city_branch(session: Session, unit: Unit) -> Unit:
    """The bank's city branch (分行) above a sub-branch or outlet: the unit right under the bank."""
    current = unit
    while current.parent_id is not None:
        parent = session.get(Unit, current.parent_id)
        if parent.kind == "bank":
            return current
        current = parent
    return unit


def _branch(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or unit.kind not in BANK_UNIT_KINDS:
        raise InvalidInput("not_a_bank_branch", "开户网点须为银行支行或网点", "the opening unit must be a bank branch or outlet",
                           field="opening_unit_id")
    return unit


def record_fraud_account(*, session: Session, actor: User, account_number: str, opening_unit_id: int,
                         opened_on: datetime, case_id: int | None = None,
                         clerk_name: str | None = None) -> tuple[FraudAccount, Process | None]:
    """Record a fraud-involved account against its opening branch; start the reverse audit when the
    branch's count in that quarter reaches the policy threshold."""
    require_role(actor, "office", "admin")
    account = normalize_account(account_number)
    branch = _branch(session, opening_unit_id)
    now = utcnow()
    record = FraudAccount(account_number=account, opening_unit_id=branch.id, opened_on=plausible_past(opened_on, field="opened_on", label_zh="开户日期"),
                          case_id=case_id, clerk_name=(clerk_name or "").strip() or None, recorded_at=now,
                          recorded_by=actor.username)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        raise InvalidInput("duplicate_account", f"账户 {mask_account(account)} 已登记为涉案账户",
                           f"account {mask_account(account)} is already recorded", field="account_number") from None
    audit.record(session=session, actor=actor.username, action="fraud_account.recorded", entity_type="fraud_account",
                 entity_id=record.id, after={"account": mask_account(account), "opening_unit_id": branch.id}, at=now)
    year, quarter, start, end = quarter_of(record.opened_on)
    in_quarter = select(FraudAccount).where(FraudAccount.opening_unit_id == branch.id,
                                            FraudAccount.opened_on >= start, FraudAccount.opened_on < end)
    count = session.exec(select(func.count()).select_from(in_quarter.subquery())).one()
    threshold = current_policy().processes.reverse_audit.trigger_accounts_per_quarter
    if count < threshold:
        return record, None
    clerks = sorted({c for (c,) in session.execute(select(FraudAccount.clerk_name).where(
        FraudAccount.opening_unit_id == branch.id, FraudAccount.opened_on >= start, FraudAccount.opened_on < end,
        FraudAccount.clerk_name.is_not(None)).distinct()).all()})
    process = processes.start(session=session, kind="reverse_audit", started_by="system:reverse-audit-trigger",
                              title=f"{branch.name} {year}年第{quarter}季度 涉案开户倒查", subject_unit_id=branch.id,
                              dedupe_key=f"{branch.id}:{year}Q{quarter}", now=now,
                              data={"quarter": f"{year}Q{quarter}", "accounts": count, "threshold": threshold,
                                    "clerks": clerks, "trigger": "threshold"})
    return record, process


def record_account_entry(*, session: Session, actor: User, **fields) -> Process | None:
    """The pages' way in: one fraud-involved account; the reverse audit it started, if it did."""
    return record_fraud_account(session=session, actor=actor, **fields)[1]


def start_by_hand(*, session: Session, actor: User, branch_unit_id: int, reason: str,
                  clerks: list[str] | None = None) -> Process:
    require_role(actor, "office", "admin")
    branch = _branch(session, branch_unit_id)
    if not (reason or "").strip():
        raise InvalidInput("reason_required", "请写明启动倒查的原因", "say why the reverse audit starts", field="reason")
    return processes.start(session=session, kind="reverse_audit", started_by=actor.username,
                           title=f"{branch.name} 倒查（人工启动）", subject_unit_id=branch.id,
                           data={"trigger": "by_hand", "reason": reason.strip(), "clerks": clerks or []})


def advance(step: processes.Step) -> None:
    session, process = step.session, step.process
    branch = session.get(Unit, process.subject_unit_id)
    city = city_branch(session, branch)
    rule = "processes.reverse_audit"
    if process.stage == "started":
        clerks = "、".join(step.data.get("clerks") or []) or "相关柜员"
        step.issue("suspend_card_issuance", kind="card_issuance_suspension", addressee_unit_id=city.id,
                   title=f"暂停{branch.name}新开借记卡及智慧柜员机自助办卡",
                   instructions=f"请即日起暂停{branch.name}新开借记卡、智慧柜员机自助办卡业务，并反馈执行情况。",
                   details={"branch_unit_id": branch.id})
        step.issue("interview_notice", kind="interview_notice", addressee_unit_id=branch.id,
                   title=f"约谈{branch.name}负责人", instructions="请支行负责人按时到联席办接受公开警示约谈。")
        step.issue("circulated_criticism", kind="circulated_criticism", addressee_unit_id=city.id,
                   title=f"通报批评{branch.name}{clerks}", details={"clerks": step.data.get("clerks") or []},
                   instructions=f"请在全市范围内对{branch.name}{clerks}予以通报批评，并反馈通报文件。")
        step.issue("rectification_report", kind="rectification_report", addressee_unit_id=branch.id,
                   title=f"{branch.name}涉案开户问题整改报告", instructions="请查明涉案开户原因，落实整改并按时报送整改报告。")
        step.move_to("measures_issued", rule=rule)
    blocking = [step.order(key) for key in ("rectification_report", "lift_suspension")]
    if any(order is not None and order.status == "cancelled" for order in blocking):
        # The office withdrew the step the audit waits on: the audit ends rather than wait forever.
        step.close("cancelled_by_office", rule=rule)
        return
    if process.stage == "measures_issued":
        report = step.order("rectification_report")
        if report is not None and report.status in ("accepted", "closed"):
            step.issue("lift_suspension", kind="lift_measure", addressee_unit_id=city.id,
                       title=f"恢复{branch.name}借记卡开卡业务",
                       instructions=f"{branch.name}整改报告已验收通过，请恢复其新开借记卡及自助办卡业务并反馈。",
                       details={"branch_unit_id": branch.id})
            step.move_to("lifting", rule=rule)
    if process.stage == "lifting":
        lift = step.order("lift_suspension")
        if lift is not None and lift.status in ("accepted", "closed"):
            step.close("rectified", rule=rule)


KIND = registry.register(ProcessKind(
    name="reverse_audit", label_zh="倒查", label_en="Reverse audit",
    stages=(Stage("started", "已启动", "Started"), Stage("measures_issued", "措施已下达", "Measures issued"),
            Stage("lifting", "解除暂停中", "Lifting the suspension")),
    moves=(stage_move("issue_measures", "started", "measures_issued"),
           stage_move("lift", "measures_issued", "lifting")),
    start=start_by_hand, advance=advance,
    start_fields=(FormField("branch_unit_id", "unit", "支行或网点", "Bank branch or outlet",
                            hints={"unit_kinds": BANK_UNIT_KINDS}),
                  FormField("reason", "text", "启动原因", "Reason"),
                  FormField("clerks", "text_list", "涉及柜员", "Clerks concerned", required=False)),
    order_kinds=("card_issuance_suspension", "interview_notice", "circulated_criticism", "rectification_report",
                 "lift_measure"),
    outcomes=(Outcome("rectified", "整改完成", "Rectified"),
              Outcome("cancelled_by_office", "联席办撤销", "Cancelled by the office")),
    policy=ReverseAuditRules,
    entries=(ProcessEntry("fraud-account", "登记涉案账户", "Record a fraud-involved account", record_account_entry,
                          bulk=True, fields=(
        FormField("account_number", "text", "涉案账号", "Account number", hints={"pattern": r"\d{10,30}"}),
        FormField("opening_unit_id", "unit", "开户网点", "Opening branch", hints={"unit_kinds": BANK_UNIT_KINDS}),
        FormField("opened_on", "date", "开户日期", "Opened on"),
        FormField("case_id", "case", "关联案件", "Case", required=False),
        FormField("clerk_name", "text", "经办柜员", "Clerk", required=False, hints={"max_length": 50})),
        description="涉案账户: counted against the branch that opened it; at the policy's count a quarter the "
                    "reverse audit starts by itself."),),
    facts=(Fact("trigger", "启动方式", "Started", "choice", {"threshold": "涉案开户数达到倒查标准", "by_hand": "人工启动"}),
           Fact("reason", "启动原因", "Reason"), Fact("quarter", "季度", "Quarter"),
           Fact("accounts", "本季度涉案开户数", "Fraud accounts this quarter"),
           Fact("threshold", "倒查标准（户）", "Trigger count"), Fact("clerks", "涉及柜员", "Clerks", "list")),
    summary_zh="对涉案开户较多的银行支行或网点倒查：暂停新开借记卡、约谈负责人、通报批评柜员、整改后恢复开卡。"
               "登记涉案账户达到季度标准时自动启动，也可人工启动。",
    summary_en="Reverse audit of a bank branch that opened many fraud-involved accounts.",
    description="倒查 started by hand; it also starts by itself at the policy's count of fraud accounts."))
