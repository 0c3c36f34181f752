"""What the runner and the task worker serve. Started by `lianban up` (or by hand with
`lianban worker` / `lianban task-worker` in the scale-out mode)."""
from datetime import timedelta

from prefect import serve
from prefect.task_worker import serve as serve_tasks

from domain.settings import get_settings
from flows.escalation import escalation_sweep, escalation_watch, follow_up_decision

# Windows overlap by this much, so a late start of the next watch never leaves a gap.
WATCH_OVERLAP_SECONDS = 30


def escalation_deployments() -> list:
    settings = get_settings()
    interval = settings.watch_window_seconds
    watch = escalation_watch.to_deployment(
        name="escalation-watch", interval=timedelta(seconds=interval),
        # Overlapping windows need two at once; more would be late runs piling up after an outage.
        concurrency_limit=2,
        parameters={"window_seconds": interval + WATCH_OVERLAP_SECONDS, "poll_seconds": settings.watch_poll_seconds},
        tags=["lianban", "escalation"], description="领导包案审批：跟进决定、催办、超时逐级上报")
    sweep = escalation_sweep.to_deployment(name="escalation-sweep", tags=["lianban", "escalation"],
                                           description="one pass over everything due (manual)")
    return [watch, sweep]


def run_runner() -> None:
    serve(*escalation_deployments(), print_starting_message=False, limit=4)


def run_task_worker() -> None:
    serve_tasks(follow_up_decision)
