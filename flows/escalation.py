"""The escalation process as Prefect runs it.

The process state lives in our tables; these flows only advance it: each pass reads what is due
(decisions awaiting their follow-up, leaders to remind, approvals past their deadline), does it
through the domain services, and records it. Every step is idempotent, so the watch, a nudge and
a manual sweep may all run at once.
"""
from prefect import flow, get_run_logger, tags, task

from domain.cases.models import Case
from domain.db import session_scope
from domain.escalation import service as escalation
from domain.escalation.models import Approval
from domain.timeutil import utcnow
from flows import names


def _case_number(approval_id: int) -> str:
    return _about(approval_id)[0]


def _about(approval_id: int) -> tuple[str, str]:
    """The approval's case number and its decision (approved / returned / pending)."""
    with session_scope(reading=True) as session:
        approval = session.get(Approval, approval_id)
        case = session.get(Case, approval.case_id) if approval else None
        return (case.case_number if case else "?"), (approval.status if approval else "")


def _named(step: str):
    """A task run's name from its parameters: 包案 · JZ-2026-0201 (the decision, when known, says which)."""
    def name() -> str:
        from prefect.runtime import task_run

        parameters = task_run.parameters
        known = parameters.get("decision") if step == "followed_up" else None
        return names.escalation_step(known if known in ("approved", "returned") else step,
                                     parameters.get("case_number") or "?")
    return name


@task(name="follow-up-decision", task_run_name=_named("followed_up"), retries=2, retry_delay_seconds=1)
def follow_up_decision(approval_id: int, case_number: str = "", decision: str = "") -> str | None:
    """Approved → the leader takes the case (包案), listed for supervision where policy says; returned →
    back to the office with the leader's comment."""
    with session_scope() as session:
        return escalation.apply_decision(session=session, approval_id=approval_id)


@task(name="remind-leader", task_run_name=_named("reminded"), retries=2, retry_delay_seconds=1)
def remind_leader(approval_id: int, case_number: str = "") -> bool:
    with session_scope() as session:
        return escalation.remind(session=session, approval_id=approval_id)


@task(name="escalate-one-tier-up", task_run_name=_named("escalated"), retries=2, retry_delay_seconds=1)
def escalate_one_tier_up(approval_id: int, case_number: str = "") -> int | None:
    with session_scope() as session:
        upper = escalation.escalate(session=session, approval_id=approval_id)
        return upper.id if upper else None


# Above this many due steps of one kind, a pass does them in one Prefect task: a task run costs
# ~100 ms of orchestration against a few ms of database work, so a burst of decisions or deadlines
# done one task each outruns the orchestrator (docs/performance.md). The usual trickle keeps one
# task per case, named and tagged after it.
BATCH_ABOVE = 3


def _batch_name() -> str:
    from prefect.runtime import task_run

    return names.escalation_batch(task_run.parameters.get("kind", ""), task_run.parameters.get("count", 0))


@task(name="escalation-steps-batch", task_run_name=_batch_name, retries=2, retry_delay_seconds=1)
def run_batch(kind: str, count: int, approval_ids: list[int]) -> int:
    """Do `count` due steps of one kind, each in its own transaction; return how many happened."""
    step = {"followed_up": follow_up_decision.fn, "reminded": remind_leader.fn,
            "escalated": escalate_one_tier_up.fn}[kind]
    done = 0
    for approval_id in approval_ids:
        result = step(approval_id)
        done += bool(result) if kind == "reminded" else result is not None
    return done


def advance_due_steps(*, via_prefect: bool = True) -> dict[str, int]:
    """One pass: do everything that is due now. Returns how many steps actually happened.
    `via_prefect=False` runs the same steps as plain functions (the operator's last resort)."""
    follow, remind, escalate = ((follow_up_decision, remind_leader, escalate_one_tier_up) if via_prefect else
                                (follow_up_decision.fn, remind_leader.fn, escalate_one_tier_up.fn))
    now = utcnow()
    with session_scope(reading=True) as session:
        follow_ups = escalation.due_follow_ups(session=session)
        reminders = escalation.due_reminders(session=session, now=now)
        overdue = escalation.due_escalations(session=session, now=now)
    done = {"followed_up": 0, "reminded": 0, "escalated": 0}
    if via_prefect:
        for kind, ids in (("followed_up", follow_ups), ("reminded", reminders), ("escalated", overdue)):
            if len(ids) > BATCH_ABOVE:
                done[kind] += run_batch(kind, len(ids), ids)
                ids.clear()
    for approval_id in follow_ups:
        number, decision = _about(approval_id)
        with tags(f"case:{number}"):
            done["followed_up"] += follow(approval_id, number, decision) is not None
    for approval_id in reminders:
        number = _case_number(approval_id)
        with tags(f"case:{number}"):
            done["reminded"] += bool(remind(approval_id, number))
    for approval_id in overdue:
        number = _case_number(approval_id)
        with tags(f"case:{number}"):
            done["escalated"] += escalate(approval_id, number) is not None
    return done


@flow(name="escalation-sweep", flow_run_name="包案审批巡查 · {note}")
def escalation_sweep(note: str = "手动") -> dict[str, int]:
    """A single pass, for operators and tests; the watch runs the same pass in a loop."""
    done = advance_due_steps()
    get_run_logger().info("sweep done followed_up=%(followed_up)s reminded=%(reminded)s escalated=%(escalated)s",
                          done)
    return done
