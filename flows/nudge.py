"""Nudging the orchestrator after a human decision: speed only, never correctness.

The decision is committed with `follow_up_pending` set before this runs; if the nudge is lost
(Prefect down, task worker stopped), the watch's next pass does the follow-up anyway.
"""
import logging
import os
import threading

from domain.settings import get_settings

log = logging.getLogger("lianban.nudge")


def _submit(approval_id: int, case_number: str) -> None:
    from flows.escalation import follow_up_decision

    try:
        follow_up_decision.delay(approval_id, case_number)
    except Exception as exc:  # lost nudge: the watch catches up
        log.warning("nudge_failed approval_id=%s error=%s", approval_id, type(exc).__name__)


def nudge_follow_up(approval_id: int, case_number: str) -> None:
    """Hand the follow-up to the task worker, waiting at most the configured timeout."""
    settings = get_settings()
    # Without a server URL Prefect would start a throwaway server inside this process: skip instead.
    if not settings.nudge_enabled or not os.environ.get("PREFECT_API_URL"):
        return
    worker = threading.Thread(target=_submit, args=(approval_id, case_number), daemon=True, name=f"nudge-{approval_id}")
    worker.start()
    worker.join(settings.nudge_timeout_seconds)
    if worker.is_alive():
        log.warning("nudge_timeout approval_id=%s", approval_id)


def warm_up() -> None:
    """Load Prefect's client machinery once at start-up, off the request path: the first
    `.delay()` of a cold process otherwise takes seconds."""
    if not get_settings().nudge_enabled or not os.environ.get("PREFECT_API_URL"):
        return

    def _load() -> None:
        try:
            from prefect.client.orchestration import get_client

            import flows.escalation  # noqa: F401

            with get_client(sync_client=True) as client:
                client.hello()
        except Exception as exc:
            log.warning("nudge_warm_up_failed error=%s", type(exc).__name__)

    threading.Thread(target=_load, daemon=True, name="nudge-warm-up").start()
