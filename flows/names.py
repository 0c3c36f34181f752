"""What the Prefect UI calls each run: named after what it does, in the office's words, so the UI
reads as an operator console — "倒查 · 中国银行江陵支行 · 2026Q1", "包案 · JZ-2026-0201",
"巡检 12-06 21:00–21:01:30". Pure functions: the flows call them, the tests check them."""
import re
from datetime import datetime, timedelta

from domain.timeutil import SHANGHAI

SEP = " · "
_PERIOD = re.compile(r"(\d{4}(?:Q[1-4]|-\d{2}))$")

# The escalation's per-case steps (flows/escalation.py), by what they do.
ESCALATION_STEPS = {"approved": "包案", "returned": "退回", "followed_up": "包案/退回", "reminded": "催办",
                    "escalated": "逐级上报"}


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def watch_run(start: datetime, window_seconds: float) -> str:
    """巡检 and its window in Beijing time: 巡检 12-06 21:00–21:01:30."""
    # A plain datetime: Prefect hands over its own DateTime type, whose arithmetic came back in UTC
    # ("巡检 12-07 08:01:20–00:02:50").
    local = datetime.fromtimestamp(start.timestamp(), SHANGHAI)
    end = local + timedelta(seconds=window_seconds)
    return f"巡检 {local:%m-%d} {_clock(local)}–{_clock(end)}"


def process_run(*, kind_zh: str, process_id: int, unit_name: str | None = None, case_number: str | None = None,
                dedupe_key: str | None = None) -> str:
    """倒查 · 中国银行江陵支行 · 2026Q1: the kind, whom it is about, and which period or case."""
    period = _PERIOD.search(dedupe_key or "")
    parts = [kind_zh, unit_name, period.group(1) if period else case_number or f"第{process_id}号"]
    return SEP.join(p for p in parts if p)


def escalation_step(step: str, case_number: str) -> str:
    """包案 · JZ-2026-0201 (催办, 逐级上报, 退回 …)."""
    return f"{ESCALATION_STEPS.get(step, step)}{SEP}{case_number}"


def escalation_batch(step: str, count: int) -> str:
    return f"{ESCALATION_STEPS.get(step, step)}{SEP}{count}件"


def circulation_run(month: str) -> str:
    """月通报 · 2026年10月."""
    return f"月通报{SEP}{int(month[:4])}年{int(month[5:7])}月"


def circulation_step(step_zh: str, month: str) -> str:
    return f"{step_zh}{SEP}{int(month[:4])}年{int(month[5:7])}月"


def order_document(order_id: int) -> str:
    return f"印制公文{SEP}指令{order_id}"
