"""Nudging the orchestrator after a human decision: speed only, never correctness.

The decision is committed with `follow_up_pending` set before this runs; if the nudge is lost
(Prefect down, task worker stopped), the watch's next pass does the follow-up anyway.
"""
import logging
import os
import threading

from domain.settings import get_settings

log = logging.getLogger("lianban.nudge")


def _submit(approval_id: int) -> None:
    from flows.escalation import follow_up_decision

    try:
        follow_up_decision.delay(approval_id, "")
    except Exception as exc:  # lost nudge: the watch catches up
        log.warning("nudge_failed approval_id=%s error=%s", approval_id, type(exc).__name__)


def nudge_follow_up(approval_id: int) -> None:
    """Hand the follow-up to the task worker, waiting at most the configured timeout."""
    settings = get_settings()
    # Without a server URL Prefect would start a throwaway server inside this process: skip instead.
    if not settings.nudge_enabled or not os.environ.get("PREFECT_API_URL"):
        return
    worker = threading.Thread(target=_submit, args=(approval_id,), daemon=True, name=f"nudge-{approval_id}")
    worker.start()
    worker.join(settings.nudge_timeout_seconds)
    if worker.is_alive():
        log.warning("nudge_timeout approval_id=%s", approval_id)
