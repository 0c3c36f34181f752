"""The watch: keeps every process moving within seconds.

Each run lasts one window and makes a pass every `poll_seconds`: the escalation steps that are
due (decision follow-ups, reminders, one tier up), the processes that something happened to or
whose timer came, and the official documents of newly issued orders; every `deadline_seconds`
also the orders past a deadline (催办, 挂牌督办: one indexed query). Scheduled so that windows
overlap a little; two watches at once are harmless because every step happens once (see
docs/decisions.md, decisions 1 and 5). The deadline check rides in the long-lived watch rather
than a flow run of its own each minute: a new flow-run process a minute cost ~2.5 % of a core idle."""
import time

from prefect import flow, get_run_logger

from domain.timeutil import utcnow
from flows import names
from flows.escalation import advance_due_steps
from flows.orders import check_due_orders
from flows.processes import advance_due_processes, issue_due_documents


def _run_name() -> str:
    """巡检 and the window this run covers (from when it was due to start), in Beijing time."""
    from prefect.runtime import flow_run

    start = flow_run.scheduled_start_time or utcnow()
    return names.watch_run(start, flow_run.parameters.get("window_seconds", 90))


@flow(name="watch", flow_run_name=_run_name)
def watch(window_seconds: int = 90, poll_seconds: float = 1.0, deadline_seconds: float = 15.0) -> dict[str, int]:
    logger = get_run_logger()
    totals = {"followed_up": 0, "reminded": 0, "escalated": 0, "processes": 0, "documents": 0,
              "orders_reminded": 0, "orders_escalated": 0, "passes": 0}
    ends = time.monotonic() + window_seconds
    next_deadline_check = time.monotonic()
    while time.monotonic() < ends:
        try:
            done = {**advance_due_steps(), "processes": advance_due_processes(), "documents": issue_due_documents()}
            if time.monotonic() >= next_deadline_check:
                next_deadline_check = time.monotonic() + deadline_seconds
                checked = check_due_orders()
                done.update(orders_reminded=checked["reminded"], orders_escalated=checked["escalated"])
        except Exception:  # a database or API hiccup must not end the window; the next pass retries
            logger.exception("pass failed; retrying in %.1fs", poll_seconds)
            done = {}
        for key, value in done.items():
            totals[key] += value
        if any(done.values()):
            logger.info("pass %s", " ".join(f"{k}={v}" for k, v in done.items()))
        totals["passes"] += 1
        time.sleep(poll_seconds)
    return totals
