"""The deadline check: one indexed query finds the orders past a deadline; each is reminded (催办)
at the policy's cadence and, after the policy's number of reminders, escalated (挂牌督办). One batch
per check, each order in its own short transaction. The watch (flows/watch.py) runs the check every
15 s; the `deadline-watch` flow is the same check as a run of its own, by hand."""
from prefect import flow, get_run_logger, task

from domain.db import session_scope
from domain.orders import service as orders
from domain.timeutil import utcnow


def check_due_orders(limit: int = 5000) -> dict[str, int]:
    now = utcnow()
    with session_scope(reading=True) as session:
        due = orders.due_for_check(session=session, now=now, limit=limit)
    done = {"checked": len(due), "reminded": 0, "escalated": 0}
    for order_id, seen in due:
        with session_scope() as session:
            outcome = orders.check_deadline(session=session, order_id=order_id, seen_next_check_at=seen)
        if outcome == "reminded":
            done["reminded"] += 1
        elif outcome == "escalated":
            done["reminded"] += 1
            done["escalated"] += 1
    return done


@task(name="remind-overdue-orders", task_run_name="指令超时催办")
def remind_overdue_orders(limit: int = 5000) -> dict[str, int]:
    return check_due_orders(limit)


@flow(name="deadline-watch", flow_run_name="指令时限巡查")
def deadline_watch(limit: int = 5000) -> dict[str, int]:
    done = remind_overdue_orders(limit)
    get_run_logger().info("deadline watch checked=%(checked)s reminded=%(reminded)s escalated=%(escalated)s", done)
    return done
