"""What the runner and the task worker serve. Started by `lianban up` (or by hand with
`lianban worker` / `lianban task-worker` in the scale-out mode)."""
from datetime import timedelta

from prefect import serve
from prefect.task_worker import serve as serve_tasks

from domain.settings import get_settings
from flows.circulation import monthly_circulation
from flows.escalation import escalation_sweep, follow_up_decision
from flows.orders import deadline_watch
from flows.watch import watch

# Windows overlap by this much, so a late start of the next watch never leaves a gap.
WATCH_OVERLAP_SECONDS = 30


def deployments() -> list:
    settings = get_settings()
    interval = settings.watch_window_seconds
    return [
        watch.to_deployment(
            name="watch", interval=timedelta(seconds=interval),
            # Overlapping windows need two at once; more would be late runs piling up after an outage.
            concurrency_limit=2,
            parameters={"window_seconds": interval + WATCH_OVERLAP_SECONDS, "poll_seconds": settings.watch_poll_seconds},
            tags=["lianban"], description="领导包案审批与各联办流程的推进：跟进决定、催办、逐级上报、流程下一步"),
        # The watch checks deadlines every 15 s itself; this deployment is the same check by hand.
        deadline_watch.to_deployment(
            name="deadline-watch", concurrency_limit=1, tags=["lianban", "orders"],
            description="指令时限巡查（手动；巡检每15秒已随之进行）：超时催办，催办达到次数后挂牌督办"),
        escalation_sweep.to_deployment(name="escalation-sweep", tags=["lianban", "escalation"],
                                       description="包案审批巡查（手动）：跟进领导决定、催办、逐级上报"),
        _monthly_circulation_deployment(),
    ]


def _monthly_circulation_deployment():
    from prefect.schedules import Cron

    from domain.policy import current_policy

    rules = current_policy().circulation  # a changed cron takes effect when the runner restarts
    return monthly_circulation.to_deployment(
        name="monthly-circulation", schedules=[Cron(rules.cron, timezone=rules.timezone)], concurrency_limit=1,
        parameters={"month": ""}, tags=["lianban", "circulation"],
        description="月通报：上月发案排名前列的县市区、乡镇街道、村居及涉“两卡”成员单位，黄牌/红牌，挂牌整治与出列，印发通报")


def run_runner() -> None:
    serve(*deployments(), print_starting_message=False, limit=6)


def run_task_worker() -> None:
    serve_tasks(follow_up_decision)
