"""The Prefect UI as the operators' console: every run is named after what it does, in the office's
words — "倒查 · 中国银行江陵支行 · 2026Q1", "包案 · JZ-2026-0201", "巡检 12-06 21:00–21:01:30" —
and no name mixes in English. Checked through the functions that make the names."""
import re
from datetime import datetime, timezone

import prefect.runtime.flow_run as flow_run
import prefect.runtime.task_run as task_run
import pytest

from flows import circulation, escalation, names, orders, processes, watch

ENGLISH = re.compile(r"[A-Za-z]{2,}")


def test_a_reverse_audit_run_is_named_after_its_branch_and_quarter():
    assert names.process_run(kind_zh="倒查", process_id=7, unit_name="中国银行江陵支行",
                             dedupe_key="12:2026Q1") == "倒查 · 中国银行江陵支行 · 2026Q1"
    assert names.process_run(kind_zh="紧急止付", process_id=8, unit_name="工商银行荆州分行",
                             case_number="JZ-2026-0201") == "紧急止付 · 工商银行荆州分行 · JZ-2026-0201"
    assert names.process_run(kind_zh="惩戒", process_id=9) == "惩戒 · 第9号"


def test_case_work_is_named_after_the_step_and_the_case():
    assert names.escalation_step("approved", "JZ-2026-0201") == "包案 · JZ-2026-0201"
    assert names.escalation_step("returned", "JZ-2026-0201") == "退回 · JZ-2026-0201"
    assert names.escalation_step("reminded", "JZ-2026-0201") == "催办 · JZ-2026-0201"
    assert names.escalation_step("escalated", "JZ-2026-0201") == "逐级上报 · JZ-2026-0201"


def test_a_watch_run_is_named_by_its_window_in_beijing_time():
    start = datetime(2026, 12, 6, 13, 0, tzinfo=timezone.utc)  # 21:00 in Beijing
    assert names.watch_run(start, 90) == "巡检 12-06 21:00–21:01:30"
    assert names.watch_run(start, 120) == "巡检 12-06 21:00–21:02"


def test_a_watch_run_started_by_prefect_ends_its_window_in_beijing_time_too():
    import pendulum  # Prefect gives a flow run's start as its own DateTime (pendulum's)

    start = pendulum.datetime(2026, 12, 7, 0, 1, 20, tz="UTC")
    assert names.watch_run(start, 90) == "巡检 12-07 08:01:20–08:02:50"


@pytest.fixture
def runtime(monkeypatch):
    def set_run(*, parameters: dict, scheduled: datetime | None = None):
        monkeypatch.setattr(flow_run, "parameters", parameters, raising=False)
        monkeypatch.setattr(task_run, "parameters", parameters, raising=False)
        if scheduled is not None:
            monkeypatch.setattr(flow_run, "scheduled_start_time", scheduled, raising=False)
    return set_run


def test_the_flows_name_their_runs_through_these_functions(runtime):
    runtime(parameters={"window_seconds": 90}, scheduled=datetime(2026, 12, 6, 13, 0, tzinfo=timezone.utc))
    assert watch.watch.flow_run_name() == "巡检 12-06 21:00–21:01:30"
    runtime(parameters={"approval_id": 5, "case_number": "JZ-2026-0201", "decision": "approved"})
    assert escalation.follow_up_decision.task_run_name() == "包案 · JZ-2026-0201"
    assert escalation.remind_leader.task_run_name() == "催办 · JZ-2026-0201"
    assert escalation.escalate_one_tier_up.task_run_name() == "逐级上报 · JZ-2026-0201"
    runtime(parameters={"kind": "reminded", "count": 12, "approval_ids": []})
    assert escalation.run_batch.task_run_name() == "催办 · 12件"
    runtime(parameters={"month": "2026-10"})
    assert circulation.monthly_circulation.flow_run_name() == "月通报 · 2026年10月"
    assert circulation.issue_circular.task_run_name() == "印发通报 · 2026年10月"


def test_no_run_name_mixes_in_english():
    templates = [escalation.escalation_sweep.flow_run_name, orders.deadline_watch.flow_run_name,
                 orders.remind_overdue_orders.task_run_name, processes.issue_order_document.task_run_name]
    for kind in ("reverse_audit", "stop_payment", "outlet_suspension"):
        templates.append(processes.process_flow(kind).flow_run_name)
    for template in templates:
        assert isinstance(template, str) and not ENGLISH.search(re.sub(r"{\w+}", "", template)), template
    made = [names.process_run(kind_zh="停业整顿", process_id=1, unit_name="移动沙市营业厅"), names.circulation_run("2026-01"),
            names.escalation_batch("followed_up", 4), names.order_document(12), names.watch_run(datetime(2026, 1, 1, tzinfo=timezone.utc), 60)]
    assert not [name for name in made if ENGLISH.search(name)]
