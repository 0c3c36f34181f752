"""Process kinds are a registry: a kind declared in one module (here a tests-only one, with its
policy section in a copied policy folder) gets its routes, its flow, its policy section and its
names without any other file changing; and a stage moves only as its kind declares."""
import json

import pytest
import yaml
from sqlmodel import select

from domain.audit.models import AuditEvent
from domain.errors import DomainError
from domain.processes.models import Process
from tests.conftest import auth, write_policy
from tests.domain.processes import revisit_kind


@pytest.fixture
def revisit(tmp_path):
    """The tests-only kind registered, and a policy folder that has its section and deadlines."""
    from domain.policy import use_policy_folder

    declared = revisit_kind.register()
    folder = write_policy(tmp_path / "policy")
    for stem, add in (("processes", {revisit_kind.NAME: {"instructions": "请电话回访并反馈。", "basis": "测试"}}),
                      ("orders", None)):
        path = folder / f"{stem}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if stem == "orders":
            data["kinds"][revisit_kind.NAME] = {"acknowledge_within": "1d", "complete_within": "2d",
                                                "remind_every": "1d", "basis": "测试"}
        else:
            data.update(add)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    use_policy_folder(folder)
    yield declared
    use_policy_folder(None)
    revisit_kind.unregister()


@pytest.mark.prefect
def test_a_kind_declared_in_one_module_runs_end_to_end_through_the_api_and_its_flow(
        revisit, client, engine, session, city, prefect_server):
    from domain.policy import current_policy
    from flows.processes import advance_due_processes, process_flow
    from web import labels

    unit_id = city["liaison_icbc"].unit_id
    started = client.post("/api/v1/processes/test-revisit", headers=auth("office"),
                          json={"unit_id": unit_id, "note": "核实回执"})
    assert started.status_code == 201, started.text
    process_id = started.json()["id"]
    assert started.json()["stage"] == "started"
    # The derived schema refuses what the kind did not declare, and the kind's own rules still apply.
    assert client.post("/api/v1/processes/test-revisit", headers=auth("office"),
                       json={"unit_id": unit_id, "extra": 1}).status_code == 422
    assert client.post("/api/v1/processes/test-revisit", headers=auth("liaison_icbc"),
                       json={"unit_id": unit_id}).status_code == 403

    assert advance_due_processes() == 1  # the watch's path: the kind's own Prefect flow
    assert process_flow(revisit_kind.NAME).name == "process-test-revisit"
    orders = client.get(f"/api/v1/processes/{process_id}", headers=auth("office")).json()["orders"]
    assert [(o["kind"], o["addressee_unit_id"]) for o in orders] == [(revisit_kind.NAME, unit_id)]
    order_id = orders[0]["id"]
    assert current_policy().processes.test_revisit.instructions == "请电话回访并反馈。"

    assert client.post(f"/api/v1/orders/{order_id}/acknowledge", headers=auth("liaison_icbc")).status_code == 200
    reported = client.post(f"/api/v1/orders/{order_id}/report", headers=auth("liaison_icbc"), json={"text": "已回访"})
    assert reported.status_code == 200, reported.text
    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=auth("office"), json={}).status_code == 200
    assert advance_due_processes() == 1

    closed = client.get(f"/api/v1/processes/{process_id}", headers=auth("office")).json()
    assert closed["stage"] == "closed" and closed["closed_at"] and closed["data"]["outcome"] == "done"
    stages = [json.loads(e.after)["stage"] for e in session.exec(
        select(AuditEvent).where(AuditEvent.action == "process.stage", AuditEvent.entity_id == process_id)
        .order_by(AuditEvent.seq)).all()]
    assert stages == ["visiting", "closed"]
    # Its names reach the UI from the declaration.
    assert labels.PROCESS_KINDS[revisit_kind.NAME] == "Revisit" and labels.ORDER_KINDS[revisit_kind.NAME] == "Revisit"
    assert labels.ORDER_OUTCOMES["done"] == "Done"


def test_the_policy_schema_follows_the_registered_kinds(revisit, tmp_path):
    from policies.loader import PolicyError, load_policy_dir

    with pytest.raises(PolicyError) as missing:  # the kind is registered: its section is required
        load_policy_dir(write_policy(tmp_path / "without"))
    assert missing.value.reason == "test_revisit: required key is missing"
    folder = write_policy(tmp_path / "unknown")
    path = folder / "processes.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\ntest_revisit:\n  instructions: 请回访\n  basis: 测试\n"
                    "  wording: 多余\n", encoding="utf-8")
    with pytest.raises(PolicyError) as unknown:
        load_policy_dir(folder)
    assert unknown.value.reason.startswith("test_revisit.wording: unknown key")
    assert unknown.value.line == len(path.read_text(encoding="utf-8").splitlines())


def test_an_undeclared_stage_move_is_refused_by_the_guard_and_audited(revisit, engine, city):
    from domain.db import session_scope
    from domain.policy import current_policy
    from domain.processes import service as processes
    from domain.timeutil import utcnow

    with session_scope() as s:
        process = revisit.start(session=s, actor=city["office"], unit_id=city["liaison_icbc"].unit_id)
        process_id = process.id

    def step(s):
        return processes.Step(session=s, process=s.get(Process, process_id), policy=current_policy(), now=utcnow())

    # The kind declares started → visiting → closed only: straight to a stage it never names, refused.
    with pytest.raises(DomainError) as refused, session_scope() as s:
        step(s).move_to("reopening")
    assert refused.value.code == "undeclared_stage"
    with session_scope() as s:
        step(s).move_to("visiting")
    # Nothing leads back to started.
    with pytest.raises(DomainError) as backwards, session_scope() as s:
        step(s).move_to("started")
    assert backwards.value.code == "undeclared_stage"
    with session_scope() as s:
        step(s).close("done")
    # A declared move, but not from where the process stands.
    with pytest.raises(DomainError) as closed, session_scope() as s:
        step(s).move_to("visiting")
    assert closed.value.code == "bad_transition"
    with session_scope(reading=True) as s:
        assert s.get(Process, process_id).stage == "closed"
        refusals = [json.loads(e.after) for e in s.exec(select(AuditEvent).where(
            AuditEvent.action == "process.refused", AuditEvent.entity_id == process_id).order_by(AuditEvent.seq)).all()]
    assert [(r["action"], r["reason"], r["state"]) for r in refusals] == [
        ("to_reopening", "undeclared_stage", "started"), ("to_started", "undeclared_stage", "visiting"),
        ("visit", "bad_transition", "closed")]
