"""The monthly circulation (月通报) as Prefect runs it: on the policy's cron (08:00 on the 1st), rank
the previous month, record it, delist the areas that have earned it, give the yellow and red cards
(a red card lists the area for rectification, 挂牌整治), and issue the 通报 PDF.

Every step is an idempotent domain call in its own short transaction, so a retry, a restart or
a second run of the same month changes nothing: same ranking, no second card, no second circular.
"""
from prefect import flow, get_run_logger, task

from domain.circulation import circular
from domain.circulation import service as circulation
from domain.db import session_scope
from flows import names


def _step_name(step_zh: str) -> str:
    from prefect.runtime import task_run

    return names.circulation_step(step_zh, task_run.parameters.get("month") or "0000-00")


@task(name="rank-and-record-month", task_run_name=lambda: _step_name("排名并登记"), retries=2, retry_delay_seconds=1)
def rank_and_record_month(month: str) -> int:
    with session_scope() as session:
        record, created = circulation.record_month(session=session, month=month)
        get_run_logger().info("circulation month=%s id=%s version=%s created=%s", month, record.id, record.version,
                              created)
        return record.id


@task(name="delist-rectified-areas", task_run_name=lambda: _step_name("出列"), retries=2, retry_delay_seconds=1)
def delist_rectified_areas(month: str) -> list[int]:
    with session_scope() as session:
        return [listing.id for listing in circulation.delist_due(session=session, month=month)]


@task(name="give-cards", task_run_name=lambda: _step_name("黄牌红牌与挂牌整治"), retries=2, retry_delay_seconds=1)
def give_cards(month: str, circulation_id: int) -> list[int]:
    with session_scope() as session:
        return [card.id for card in circulation.give_cards(session=session, circulation_id=circulation_id)]


@task(name="issue-circular", task_run_name=lambda: _step_name("印发通报"), retries=2, retry_delay_seconds=1)
def issue_circular(month: str, circulation_id: int) -> str:
    with session_scope() as session:
        return circular.issue(session=session, circulation_id=circulation_id).number


def circulate(month: str | None = None, *, via_prefect: bool = True) -> dict:
    """One month, step by step; `via_prefect=False` runs the same steps as plain functions (CLI)."""
    month = circulation.parse_month(month) if month else circulation.previous_month()
    steps = (rank_and_record_month, delist_rectified_areas, give_cards, issue_circular)
    record, delist, cards, issue = steps if via_prefect else tuple(step.fn for step in steps)
    circulation_id = record(month)
    delisted = delist(month)
    carded = cards(month, circulation_id)
    number = issue(month, circulation_id)
    return {"month": month, "circulation_id": circulation_id, "cards": carded, "delisted": delisted,
            "document_number": number}


def _run_name() -> str:
    """Named after the month ranked, also when the schedule leaves the month to the flow."""
    from prefect.runtime import flow_run

    return names.circulation_run(flow_run.parameters.get("month") or circulation.previous_month())


@flow(name="monthly-circulation", flow_run_name=_run_name)
def monthly_circulation(month: str = "") -> dict:
    """Without a month (the schedule), the previous Beijing calendar month."""
    done = circulate(month or None)
    get_run_logger().info("circulated month=%(month)s id=%(circulation_id)s document=%(document_number)s", done)
    return done
