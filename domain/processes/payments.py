"""止付、冻结: orders to a bank about one account, where minutes matter.

A stop-payment holds for the policy's hours from when the bank applies it, and one account can be
stopped at most the policy's number of times; a freeze lasts the policy's months and can be renewed
before it expires. The amounts the bank reports feed the statistics.
"""
from datetime import datetime, timedelta

from sqlalchemy import text
from pydantic import Field
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.money import format_wan, parse_cny, to_fen
from domain.policy import current_policy
from domain.processes import registry
from domain.processes import service as processes
from domain.processes import actions, queries
from domain.processes.registry import Fact, FormField, Outcome, ProcessAction, ProcessKind, Stage, stage_move
from domain.processes.models import Process
from domain.processes.reverse_audit import mask_account, normalize_account
from domain.timeutil import utcnow
from domain.units import service as units
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import require_role
from policies.schema import DisplayBasis, Strict

BANK_KINDS = ("bank", "bank_branch", "bank_outlet")


class StopPaymentRules(Strict):
    hold_hours: int = Field(ge=1, le=24 * 30)
    max_per_account: int = Field(ge=1)
    basis: str
    display_basis: DisplayBasis


class FreezeRules(Strict):
    months: int = Field(ge=1, le=60)
    basis: str
    display_basis: DisplayBasis


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    last_day = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                31, 31, 30, 31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _validated(session: Session, actor: User, bank_unit_id: int, account_number: str, amount_cny: object):
    require_role(actor, "office", "admin")
    account = normalize_account(account_number)
    bank = session.get(Unit, bank_unit_id)
    if bank is None or bank.kind not in BANK_KINDS:
        raise InvalidInput("not_a_bank", "接收单位须为银行", "the addressee must be a bank unit", field="bank_unit_id")
    try:
        amount = parse_cny(amount_cny)
    except ValueError as exc:
        raise InvalidInput(exc.code, exc.zh, str(exc), field="amount_cny") from None
    if amount <= 0 or -amount.as_tuple().exponent > 2:
        raise InvalidInput("amount_not_positive", "金额须大于零，最多两位小数", "the amount must be above zero, in fen",
                           field="amount_cny")
    return account, bank, amount


def _lock_account(session: Session, account: str) -> None:
    """Serialise requests about one account on PostgreSQL (SQLite's writers are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"account:{account}"})


def _holder(holder_name: object) -> str | None:
    return actions.text(holder_name, field="holder_name", label_zh="户名", max_len=100, required=False) or None


def request_stop_payment(*, session: Session, actor: User, bank_unit_id: int, account_number: str,
                         amount_cny: object, case_id: int | None = None, holder_name: str | None = None) -> Process:
    account, bank, amount = _validated(session, actor, bank_unit_id, account_number, amount_cny)
    holder = _holder(holder_name)
    rules = current_policy().processes.stop_payment
    _lock_account(session, account)
    earlier = session.exec(select(func.count()).select_from(Process).where(Process.kind == "stop_payment",
                                                                           Process.subject_key == account)).one()
    if earlier >= rules.max_per_account:
        raise InvalidInput("stop_payment_limit",
                           f"账户 {mask_account(account)} 已止付 {earlier} 次，同一账户最多止付 {rules.max_per_account} 次；如需继续控制，请申请冻结",
                           f"account {mask_account(account)} was stopped {earlier} times; the limit is "
                           f"{rules.max_per_account}: apply for a freeze instead", field="account_number")
    return processes.start(session=session, kind="stop_payment", started_by=actor.username,
                           title=f"紧急止付 {mask_account(account)} {format_wan(to_fen(amount))}",
                           subject_unit_id=bank.id, case_id=case_id, subject_key=account,
                           data={"account": account, "holder": holder, "amount_fen": to_fen(amount),
                                 "round": earlier + 1})


def request_freeze(*, session: Session, actor: User, bank_unit_id: int, account_number: str,
                   amount_cny: object, case_id: int | None = None, holder_name: str | None = None) -> Process:
    account, bank, amount = _validated(session, actor, bank_unit_id, account_number, amount_cny)
    holder = _holder(holder_name)
    return processes.start(session=session, kind="freeze", started_by=actor.username,
                           title=f"冻结 {mask_account(account)} {format_wan(to_fen(amount))}",
                           subject_unit_id=bank.id, case_id=case_id, subject_key=account,
                           data={"account": account, "holder": holder, "amount_fen": to_fen(amount), "round": 1})


def renew_freeze(*, session: Session, actor: User, process_id: int) -> Process:
    """续冻: before expiry, one more period from the current expiry."""
    require_role(actor, "office", "admin")
    process = processes.get(session=session, process_id=process_id)
    step = processes.Step(session=session, process=process, policy=current_policy(), now=utcnow())
    expires = step.data.get("expires_at")
    if process.kind != "freeze" or process.stage != "frozen" or process.closed_at is not None or not expires:
        raise Conflict("not_renewable", "只有冻结生效中的账户可以续冻", "only a freeze in force can be renewed")
    if datetime.fromisoformat(expires) <= step.now:
        raise Conflict("freeze_expired", "冻结已到期，不能续冻，请重新申请冻结", "the freeze has expired: apply anew")
    step.update_data(round=step.data["round"] + 1, renewal_request=None)
    process.needs_advance = True
    session.add(process)
    audit.record(session=session, actor=actor.username, action="process.renewal_requested", entity_type="process",
                 entity_id=process.id, before={"round": step.data["round"] - 1, "expires_at": expires},
                 after={"round": step.data["round"]}, rule="processes.freeze.months", at=step.now)
    return process


def request_renewal(*, session: Session, actor: User, process_id: int, reason: str) -> Process:
    """申请续冻: the bank holding the freeze asks the office to renew it before it expires; the
    office renews (renew_freeze), which sends the bank the renewal order."""
    if actor.role != "liaison":
        raise Forbidden("role_forbidden", "只有执行冻结的银行联络员可以申请续冻", "only the bank's liaison asks for a renewal")
    queries.get_visible(session=session, actor=actor, process_id=process_id)  # 404 when not theirs
    process = actions.locked(session=session, process_id=process_id, kind="freeze", stages=("frozen",),
                             doing_zh="申请续冻")
    if process.subject_unit_id not in units.subtree_ids(session=session, root_id=actor.unit_id):
        raise Forbidden("not_the_bank", "只有执行冻结的银行可以申请续冻", "only the bank holding the freeze asks")
    reason = actions.text(reason, field="reason", label_zh="续冻理由", max_len=2000)
    request = {"reason": reason, "by": actor.username, "at": utcnow().isoformat()}
    return actions.record(session=session, actor=actor, process=process, action="renewal_asked",
                          changes={"renewal_request": request}, note={"at": request["at"]})


def _masked_title(step: processes.Step, verb: str) -> str:
    return f"{verb} 账户{mask_account(step.data['account'])} {format_wan(step.data['amount_fen'])}"


def _holder_line(step: processes.Step) -> str:
    return f"户名：{step.data['holder']}。" if step.data.get("holder") else ""


def advance_stop_payment(step: processes.Step) -> None:
    process, rules = step.process, step.policy.processes.stop_payment
    if process.stage == "started":
        step.issue("stop_payment", kind="stop_payment", addressee_unit_id=process.subject_unit_id,
                   title=_masked_title(step, "紧急止付"), details={"account": step.data["account"],
                                                                 "amount_fen": step.data["amount_fen"]},
                   instructions=f"{_holder_line(step)}请立即对该账户执行紧急止付，并反馈实际止付金额。")
        step.move_to("ordered")
    if process.stage == "ordered":
        order = step.order("stop_payment")
        if order.status in ("reported", "accepted", "closed"):
            held_until = order.reported_at + timedelta(hours=rules.hold_hours)
            step.update_data(held_until=held_until.isoformat(), stopped_fen=order.reported_amount_fen)
            step.move_to("held", note={"held_until": held_until.isoformat()})
        elif order.status == "cancelled":
            step.close("cancelled")
    if process.stage == "held":
        held_until = datetime.fromisoformat(step.data["held_until"])
        if step.now >= held_until:
            step.close("hold_expired", rule="processes.stop_payment.hold_hours")
        else:
            step.wake_at(held_until)


def advance_freeze(step: processes.Step) -> None:
    process, rules = step.process, step.policy.processes.freeze
    current = step.data["round"]
    if process.stage == "started":
        step.move_to("ordered")
    order = step.issue(f"freeze_{current}", kind="freeze", addressee_unit_id=process.subject_unit_id,
                       title=_masked_title(step, "冻结" if current == 1 else f"续冻（第{current - 1}次）"),
                       details={"account": step.data["account"], "amount_fen": step.data["amount_fen"], "round": current},
                       instructions=f"{_holder_line(step)}请对该账户执行冻结，并反馈实际冻结金额。")
    applied = step.data.get("applied_round", 0)
    if order.status in ("reported", "accepted", "closed") and applied < current:
        base = datetime.fromisoformat(step.data["expires_at"]) if step.data.get("expires_at") else order.reported_at
        expires = add_months(base, rules.months)
        step.update_data(expires_at=expires.isoformat(), applied_round=current,
                         frozen_fen=order.reported_amount_fen)
        step.move_to("frozen", note={"expires_at": expires.isoformat(), "round": current})
    elif order.status == "cancelled" and applied == 0:
        step.close("cancelled")
        return
    if process.stage == "frozen":
        expires = datetime.fromisoformat(step.data["expires_at"])
        if step.now >= expires:
            step.close("freeze_expired", rule="processes.freeze.months")
        else:
            step.wake_at(expires)


ACCOUNT_FIELDS = (
    FormField("bank_unit_id", "unit", "银行", "Bank", hints={"unit_kinds": BANK_KINDS}),
    FormField("account_number", "text", "账号", "Account number", hints={"pattern": r"\d{10,30}"}),
    FormField("holder_name", "text", "户名", "Account holder", required=False, hints={"max_length": 100}),
    FormField("amount_cny", "amount", "金额", "Amount", hints={"examples": ["28万", "280000.00"]}),
    FormField("case_id", "case", "关联案件", "Case", required=False),
)
STARTED = Stage("started", "已启动", "Started")
ACCOUNT_FACTS = (Fact("account", "账号", "Account number"), Fact("holder", "户名", "Account holder"),
                 Fact("amount_fen", "涉案金额", "Amount", "money_fen"))

STOP_PAYMENT = registry.register(ProcessKind(
    name="stop_payment", label_zh="紧急止付", label_en="Emergency stop-payment",
    stages=(STARTED, Stage("ordered", "已下达止付指令", "Order issued"), Stage("held", "止付中", "Payment held")),
    moves=(stage_move("order", "started", "ordered"), stage_move("hold", "ordered", "held")),
    start=request_stop_payment, advance=advance_stop_payment, start_fields=ACCOUNT_FIELDS,
    order_kinds=("stop_payment",), policy=StopPaymentRules,
    facts=(*ACCOUNT_FACTS, Fact("round", "第几次止付", "Stop-payment round"),
           Fact("stopped_fen", "实际止付金额", "Amount stopped", "money_fen"),
           Fact("held_until", "止付到期时间", "Held until", "datetime")),
    summary_zh="向银行下达紧急止付指令；银行签收后立即止付并反馈实际止付金额，止付期满自动结束。同一账户最多止付两次。",
    summary_en="Orders a bank to stop payments from an account at once; the hold ends by itself when it expires.",
    outcomes=(Outcome("hold_expired", "止付期满", "Hold expired"), Outcome("cancelled", "已撤销", "Cancelled")),
    description="紧急止付: the bank gets the order at once; a third stop-payment of one account is refused."))

FREEZE = registry.register(ProcessKind(
    name="freeze", label_zh="冻结", label_en="Freeze",
    stages=(STARTED, Stage("ordered", "已下达冻结指令", "Order issued"), Stage("frozen", "冻结中", "Frozen")),
    moves=(stage_move("order", "started", "ordered"), stage_move("freeze", "ordered", "frozen")),
    start=request_freeze, advance=advance_freeze, start_fields=ACCOUNT_FIELDS,
    order_kinds=("freeze",), policy=FreezeRules,
    facts=(*ACCOUNT_FACTS, Fact("round", "冻结轮次", "Freeze round"),
           Fact("frozen_fen", "实际冻结金额", "Amount frozen", "money_fen"),
           Fact("expires_at", "冻结到期时间", "Frozen until", "datetime"),
           Fact("renewal_request", "银行续冻申请", "Renewal asked by the bank", "request")),
    summary_zh="向银行下达冻结指令；银行反馈实际冻结金额，到期前可申请并办理续冻。",
    summary_en="Orders a bank to freeze an account; the freeze can be renewed before it expires.",
    outcomes=(Outcome("freeze_expired", "冻结期满", "Freeze expired"), Outcome("cancelled", "已撤销", "Cancelled")),
    actions=(ProcessAction("renew", "续冻", "Renew the freeze", renew_freeze, stages=("frozen",),
                           description="续冻: before expiry, one more period from the current expiry."),
             ProcessAction("renewal-request", "申请续冻", "Ask for a renewal", request_renewal, roles=("liaison",),
                           stages=("frozen",), ready=lambda data: not data.get("renewal_request"),
                           fields=(FormField("reason", "text", "续冻理由", "Reason", hints={"max_length": 2000}),),
                           description="申请续冻: the bank's liaison asks the office to renew the freeze."))))
