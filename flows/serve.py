"""What the runner and the task worker serve. Started by `lianban up` (or by hand with
`lianban worker` / `lianban task-worker` in the scale-out mode)."""
from datetime import timedelta

from prefect import serve
from prefect.task_worker import serve as serve_tasks

from domain.settings import get_settings
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
        deadline_watch.to_deployment(
            name="deadline-watch", interval=timedelta(minutes=1), concurrency_limit=1, tags=["lianban", "orders"],
            description="指令时限巡查：超时催办，催办达到次数后挂牌督办"),
        escalation_sweep.to_deployment(name="escalation-sweep", tags=["lianban", "escalation"],
                                       description="one pass over the escalation steps due (manual)"),
    ]


def run_runner() -> None:
    serve(*deployments(), print_starting_message=False, limit=6)


def run_task_worker() -> None:
    serve_tasks(follow_up_decision)
