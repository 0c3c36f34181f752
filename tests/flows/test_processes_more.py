"""The outlet suspension (停业整顿), insider referral (内鬼移送), disciplinary measures (惩戒) and
risk-tiered dissuasion (劝阻) end to end through the API, advanced by their real Prefect flows."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.processes.models import Process
from domain.processes.payments import add_months
from tests.conftest import auth, case_body, unit_id
from tests.domain.statistics.test_statistics import figures, this_month
from tests.web_helpers import csrf_token, signed_in
from tests import samples

pytestmark = pytest.mark.prefect
JPEG = samples.JPEG


@pytest.fixture(autouse=True)
def _prefect(prefect_server):
    return prefect_server


def advance():
    """What the watch does on each pass, through the processes' Prefect flows."""
    from flows.processes import advance_due_processes

    return advance_due_processes()


def process_of(client, user, process_id):
    return client.get(f"/api/v1/processes/{process_id}", headers=auth(user))


def orders_of(client, user, process_id, kind=None):
    found = process_of(client, user, process_id).json()["orders"]
    return [o for o in found if kind is None or o["kind"] == kind]


def handle(client, user, order_id, text="已办理", **extra):
    assert client.post(f"/api/v1/orders/{order_id}/acknowledge", headers=auth(user)).status_code == 200
    response = client.post(f"/api/v1/orders/{order_id}/report", headers=auth(user), json={"text": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def accept(client, order_id):
    response = client.post(f"/api/v1/orders/{order_id}/accept", headers=auth("office"), json={})
    assert response.status_code == 200, response.text


def field_of(response):
    return response.json()["detail"][0]["loc"][-1]


def set_data(engine, process_id, wake=False, **changes):
    """Move a process's dates, as time passing would."""
    with Session(engine) as s:
        process = s.get(Process, process_id)
        data = {**json.loads(process.data), **{k: v.isoformat() for k, v in changes.items()}}
        values = {"data": json.dumps(data, ensure_ascii=False)}
        if wake:
            values["wake_at"] = datetime.now(timezone.utc)
        s.execute(update(Process).where(Process.id == process_id).values(**values))
        s.commit()


# ---- 停业整顿 ----

def test_outlet_suspension_failed_inspection_extends_it_then_the_outlet_reopens(client, engine, session, tmp_path,
                                                                                monkeypatch):
    from domain.orders import evidence

    monkeypatch.setattr(evidence, "evidence_root", lambda: tmp_path / "evidence")
    case = client.post("/api/v1/cases", headers=auth("office"), json=case_body("JZ-T-0301", amount="36000.00"))
    assert case.status_code == 201, case.text
    outlet = unit_id(engine, "carrier.cmcc.jz.shashi")
    body = {"outlet_unit_id": outlet, "case_id": case.json()["id"], "reason": "该营业厅违规开办涉诈电话卡12张"}
    not_outlet = client.post("/api/v1/processes/outlet-suspension", headers=auth("office"),
                             json={**body, "outlet_unit_id": unit_id(engine, "bank.icbc.jz")})
    assert not_outlet.status_code == 422 and field_of(not_outlet) == "outlet_unit_id"
    assert "营业厅" in not_outlet.json()["detail"][0]["msg"]
    assert client.post("/api/v1/processes/outlet-suspension", headers=auth("liaison_cmcc"), json=body).status_code == 403
    started = client.post("/api/v1/processes/outlet-suspension", headers=auth("office"), json=body)
    assert started.status_code == 201, started.text
    pid = started.json()["id"]
    again = client.post("/api/v1/processes/outlet-suspension", headers=auth("office"), json=body)
    assert again.status_code == 409 and field_of(again) == "outlet_unit_id"
    advance()

    # The outlet's liaison acknowledges, reports the suspension executed with evidence; the office accepts.
    [suspend] = orders_of(client, "liaison_cmcc", pid, "outlet_suspension")
    assert suspend["addressee_unit_id"] == outlet and suspend["case_id"] == case.json()["id"]
    assert client.post(f"/api/v1/orders/{suspend['id']}/acknowledge", headers=auth("liaison_cmcc")).status_code == 200
    upload = client.post(f"/api/v1/orders/{suspend['id']}/evidence", headers=auth("liaison_cmcc"),
                         files={"file": ("停业公告.jpg", JPEG, "image/jpeg")})
    assert upload.status_code == 201, upload.text
    client.post(f"/api/v1/orders/{suspend['id']}/report", headers=auth("liaison_cmcc"), json={"text": "已停业，公告已张贴"})
    accept(client, suspend["id"])
    advance()

    # Round 1: the rectification report; the inspection cannot be recorded before it is accepted.
    [first] = orders_of(client, "liaison_cmcc", pid, "rectification_report")
    early = client.post(f"/api/v1/processes/{pid}/inspection", headers=auth("office"), json={"passed": True})
    assert early.status_code == 409
    handle(client, "liaison_cmcc", first["id"], "整改报告：已清理涉诈号卡")
    accept(client, first["id"])
    advance()
    assert process_of(client, "office", pid).json()["stage"] == "awaiting_inspection"
    assert client.post(f"/api/v1/processes/{pid}/inspection", headers=auth("liaison_cmcc"),
                       json={"passed": True}).status_code == 403
    silent = client.post(f"/api/v1/processes/{pid}/inspection", headers=auth("office"), json={"passed": False})
    assert silent.status_code == 422 and field_of(silent) == "findings"
    failed = client.post(f"/api/v1/processes/{pid}/inspection", headers=auth("office"),
                         json={"passed": False, "findings": "实名核验流程仍未落实"})
    assert failed.status_code == 200, failed.text
    assert client.post(f"/api/v1/processes/{pid}/inspection", headers=auth("office"),
                       json={"passed": True}).status_code == 409  # round 1 already inspected
    advance()

    # Failed: the suspension is extended by a second rectification round.
    extended = process_of(client, "office", pid).json()
    assert extended["stage"] == "rectifying" and extended["data"]["round"] == 2
    second = [o for o in orders_of(client, "liaison_cmcc", pid, "rectification_report") if o["id"] != first["id"]]
    assert len(second) == 1 and "第2轮" in second[0]["title"] and "实名核验流程仍未落实" in second[0]["instructions"]
    assert not orders_of(client, "office", pid, "lift_measure")
    handle(client, "liaison_cmcc", second[0]["id"], "补充整改：实名核验双人复核")
    accept(client, second[0]["id"])
    advance()
    passed = client.post(f"/api/v1/processes/{pid}/inspection", headers=auth("office"),
                         json={"passed": True, "findings": "复查合格"})
    assert passed.status_code == 200
    advance()

    [lift] = orders_of(client, "liaison_cmcc", pid, "lift_measure")
    assert lift["addressee_unit_id"] == outlet and "恢复营业" in lift["title"]
    handle(client, "liaison_cmcc", lift["id"], "已恢复营业")
    accept(client, lift["id"])
    advance()
    done = process_of(client, "office", pid).json()
    assert done["stage"] == "closed" and done["data"]["outcome"] == "reopened"
    assert [i["passed"] for i in done["data"]["inspections"]] == [False, True]
    assert advance() == 0
    history = [(e.action, json.loads(e.after or "{}").get("stage")) for e in
               audit.history(session=session, entity_type="process", entity_id=pid)]
    stages = [stage for action, stage in history if action == "process.stage"]
    assert stages == ["suspending", "rectifying", "awaiting_inspection", "rectifying", "awaiting_inspection",
                      "reopening", "closed"]
    assert [a for a, _ in history].count("process.inspection_recorded") == 2
    assert audit.verify(session=session).ok


# ---- 行业内鬼 ----

def test_insider_referral_is_sealed_from_the_employer_until_the_police_outcome_is_accepted(client, engine, session):
    employer = unit_id(engine, "bank.icbc.jz.jiangling")
    body = {"employer_unit_id": employer, "employee_name": "王小明", "facts": "利用职务之便为他人批量开立银行卡并出售"}
    # Its own unit's liaison cannot report it: the lead is sealed from that unit.
    inside = client.post("/api/v1/processes/insider-referral", headers=auth("liaison_icbc_jiangling"), json=body)
    assert inside.status_code == 422 and field_of(inside) == "employer_unit_id"
    not_employer = client.post("/api/v1/processes/insider-referral", headers=auth("liaison_icbc"),
                               json={**body, "employer_unit_id": unit_id(engine, "jiangling")})
    assert not_employer.status_code == 422 and field_of(not_employer) == "employer_unit_id"
    assert client.post("/api/v1/processes/insider-referral", headers=auth("police_station"), json=body).status_code == 403

    inbox_before = client.get("/api/v1/orders", headers=auth("liaison_icbc_jiangling")).json()["total"]
    reported = client.post("/api/v1/processes/insider-referral", headers=auth("liaison_icbc"), json=body)
    assert reported.status_code == 201, reported.text
    pid = reported.json()["id"]
    assert reported.json()["data"] == {}  # the reporter sees no names, no facts
    advance()

    # The police get the lead, with the employee and the facts, but not who reported it.
    [referral] = orders_of(client, "police_cid", pid)
    assert referral["kind"] == "insider_referral" and referral["addressee_unit_id"] == unit_id(engine, "psb.cid")
    assert "王小明" in referral["instructions"] and "批量开立银行卡" in referral["instructions"]
    police_view = process_of(client, "police_cid", pid).json()
    assert not {"reporter", "employee", "facts"} & set(police_view["data"])
    assert "工商银行荆州分行" not in json.dumps(police_view, ensure_ascii=False)
    # The office sees who reported it.
    assert process_of(client, "office", pid).json()["data"]["reporter"]["username"] == "liaison_icbc"

    # The implicated unit sees nothing: not by id, not in any list, not in any count.
    implicated = auth("liaison_icbc_jiangling")
    assert process_of(client, "liaison_icbc_jiangling", pid).status_code == 404
    assert pid not in [p["id"] for p in client.get("/api/v1/processes", headers=implicated).json()]
    assert client.get("/api/v1/processes?kind=insider_referral", headers=implicated).json() == []
    assert client.get(f"/api/v1/orders/{referral['id']}", headers=implicated).status_code == 404
    assert client.get("/api/v1/orders", headers=implicated).json()["total"] == inbox_before
    assert client.get("/api/v1/orders?kind=insider_referral", headers=implicated).json() == {
        "total": 0, "offset": 0, "limit": 50, "items": []}
    assert not [n for n in client.get("/api/v1/notices", headers=implicated).json() if "内鬼" in n["message"]]
    # The reporter follows the stage only.
    mine = process_of(client, "liaison_icbc", pid).json()
    assert mine["stage"] == "referred" and mine["data"] == {} and mine["orders"] == []

    # The police must choose one of the policy's outcomes.
    assert client.post(f"/api/v1/orders/{referral['id']}/acknowledge", headers=auth("police_cid")).status_code == 200
    url = f"/api/v1/orders/{referral['id']}/report"
    missing = client.post(url, headers=auth("police_cid"), json={"text": "已查实"})
    assert missing.status_code == 422 and field_of(missing) == "outcome" and "处理结果" in missing.json()["detail"][0]["msg"]
    invalid = client.post(url, headers=auth("police_cid"), json={"text": "已查实", "outcome": "fined_a_lot"})
    assert invalid.status_code == 422 and field_of(invalid) == "outcome"
    ok = client.post(url, headers=auth("police_cid"), json={"text": "已查实，依法行政拘留", "outcome": "administrative_penalty"})
    assert ok.status_code == 200 and ok.json()["outcome"] == "administrative_penalty"
    advance()
    assert process_of(client, "liaison_icbc_jiangling", pid).status_code == 404  # not closed until accepted
    accept(client, referral["id"])
    advance()

    closed = process_of(client, "office", pid).json()
    assert closed["stage"] == "closed" and closed["data"]["outcome"] == "administrative_penalty"
    assert process_of(client, "liaison_icbc", pid).json()["data"] == {"outcome": "administrative_penalty"}
    # The employer is told the outcome, and now sees stage and outcome, never the reporter or the facts.
    told = [n for n in client.get("/api/v1/notices", headers=implicated).json() if n["kind"] == "referral_outcome"]
    assert len(told) == 1 and "行政处罚" in told[0]["message"] and "王小明" in told[0]["message"]
    assert "批量开立" not in told[0]["message"] and "工商银行荆州分行" not in told[0]["message"]
    seen = process_of(client, "liaison_icbc_jiangling", pid)
    assert seen.status_code == 200 and seen.json()["stage"] == "closed"
    assert seen.json()["data"] == {"outcome": "administrative_penalty"} and seen.json()["orders"] == []
    assert "liaison_icbc" not in seen.text and "工商银行荆州分行" not in seen.text
    assert client.get(f"/api/v1/orders/{referral['id']}", headers=implicated).status_code == 404
    reported_events = [e for e in audit.history(session=session, entity_type="order", entity_id=referral["id"])
                       if e.action == "order.reported"]
    assert len(reported_events) == 1 and "administrative_penalty" in reported_events[0].after
    assert audit.verify(session=session).ok


# ---- 惩戒 ----

def id_number(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights)) % 11]


def punish(client, ident, ground="convicted", measures=("suspend_non_counter",), units=(), **extra):
    return client.post("/api/v1/processes/disciplinary", headers=auth("office"), json={
        "person_name": "赵某某", "id_number": ident, "ground": ground, "measures": list(measures),
        "addressee_unit_ids": list(units), **extra})


def test_disciplinary_measures_go_to_banks_and_carriers_and_an_upheld_appeal_lifts_them_all(client, engine, session):
    ident = id_number("42100219900101123")
    icbc, cmcc = unit_id(engine, "bank.icbc.jz"), unit_id(engine, "carrier.cmcc.jz")
    every = ("suspend_non_counter", "receive_only", "limit_card_opening", "limit_calls")
    bad_id = punish(client, ident[:-1] + ("0" if ident[-1] != "0" else "1"), units=[icbc])
    assert bad_id.status_code == 422 and field_of(bad_id) == "id_number" and ident[:10] not in bad_id.text
    assert field_of(punish(client, ident, ground="rumour", units=[icbc])) == "ground"
    assert field_of(punish(client, ident, measures=["confiscate_phone"], units=[icbc])) == "measures"
    no_carrier = punish(client, ident, measures=["limit_calls"], units=[icbc])
    assert no_carrier.status_code == 422 and field_of(no_carrier) == "addressee_unit_ids"
    assert "运营商" in no_carrier.json()["detail"][0]["msg"]
    idle_unit = punish(client, ident, measures=["receive_only"], units=[icbc, cmcc])
    assert idle_unit.status_code == 422 and field_of(idle_unit) == "addressee_unit_ids"

    started = punish(client, ident, measures=every, units=[icbc, cmcc])
    assert started.status_code == 201, started.text
    pid, data = started.json()["id"], started.json()["data"]
    assert data["id_number"] == f"{ident[:6]}****{ident[-4:]}" and data["years"] == 3 and not data["shortened"]
    starts, ends = datetime.fromisoformat(data["starts_at"]), datetime.fromisoformat(data["ends_at"])
    assert ends == add_months(starts, 36)
    advance()

    measures = orders_of(client, "office", pid, "disciplinary_measure")
    by_unit = {(o["addressee_unit_id"], o["title"][-4:]) for o in measures}
    assert len(measures) == 5 and by_unit == {(icbc, "柜面业务"), (icbc, "只收不付"), (icbc, "开卡数量"),
                                              (cmcc, "开卡数量"), (cmcc, "限制通话")}
    assert len(orders_of(client, "liaison_cmcc", pid)) == 2
    assert process_of(client, "liaison_ccb", pid).status_code == 404
    in_force = process_of(client, "office", pid).json()
    assert in_force["stage"] == "in_force" and in_force["data"]["written_notice"] == "due"
    actions = [e.action for e in audit.history(session=session, entity_type="process", entity_id=pid)]
    assert "process.written_notice_due" in actions
    # The ID number is never shown in full: not in the API, not in the orders, not in the audit trail.
    for user in ("office", "liaison_icbc", "liaison_cmcc"):
        assert ident not in process_of(client, user, pid).text
    assert ident not in client.get("/api/v1/processes", headers=auth("office")).text
    # …except to the addressee's liaison who asks on purpose, to act on it: audited, without the value.
    order_id = orders_of(client, "liaison_cmcc", pid)[0]["id"]
    assert client.post(f"/api/v1/orders/{order_id}/reveal", headers=auth("office")).status_code == 403
    assert client.post(f"/api/v1/orders/{order_id}/reveal", headers=auth("liaison_icbc")).status_code == 404
    shown = client.post(f"/api/v1/orders/{order_id}/reveal", headers=auth("liaison_cmcc"))
    assert shown.status_code == 200 and (shown.json()["field"], shown.json()["value"]) == ("id_number", ident)
    carrier = signed_in(engine, "liaison_cmcc")
    page = carrier.get(f"/orders/{order_id}").text
    assert "查看完整身份证号" in page and ident not in page
    revealed = carrier.post(f"/orders/{order_id}/reveal", headers={"HX-Request": "true"},
                            data={"csrf_token": csrf_token(carrier, f"/orders/{order_id}")})
    assert revealed.status_code == 200 and ident in revealed.text and "审计日志" in revealed.text
    views = [e for e in audit.history(session=session, entity_type="order", entity_id=order_id)
             if e.action == "order.identity_revealed"]
    assert [e.actor for e in views] == ["liaison_cmcc", "liaison_cmcc"]
    assert not session.exec(select(AuditEvent).where(AuditEvent.after.contains(ident) | AuditEvent.before.contains(ident))).all()

    # The appeal: nothing to decide before it is filed; the measures stay while it is pending.
    assert client.post(f"/api/v1/processes/{pid}/appeal-decision", headers=auth("office"),
                       json={"upheld": True, "reason": "x"}).status_code == 409
    appeal = client.post(f"/api/v1/processes/{pid}/appeal", headers=auth("office"), json={"grounds": "银行卡系被盗用"})
    assert appeal.status_code == 200, appeal.text
    assert client.post(f"/api/v1/processes/{pid}/appeal", headers=auth("office"),
                       json={"grounds": "再次申诉"}).status_code == 409
    advance()
    assert process_of(client, "office", pid).json()["stage"] == "under_appeal"
    assert not orders_of(client, "office", pid, "lift_measure")
    no_reason = client.post(f"/api/v1/processes/{pid}/appeal-decision", headers=auth("office"), json={"upheld": True})
    assert no_reason.status_code == 422
    decided = client.post(f"/api/v1/processes/{pid}/appeal-decision", headers=auth("office"),
                          json={"upheld": True, "reason": "经核实系身份被冒用"})
    assert decided.status_code == 200, decided.text
    advance()

    lifts = orders_of(client, "office", pid, "lift_measure")
    assert len(lifts) == 5 and {o["addressee_unit_id"] for o in lifts} == {icbc, cmcc}
    assert all("申诉成立" in o["instructions"] for o in lifts)
    for order in lifts:
        handle(client, "liaison_icbc" if order["addressee_unit_id"] == icbc else "liaison_cmcc", order["id"], "已解除")
        accept(client, order["id"])
    advance()
    closed = process_of(client, "office", pid).json()
    assert closed["stage"] == "closed" and closed["data"]["outcome"] == "appeal_upheld"
    assert audit.verify(session=session).ok


def test_periods_that_touch_are_consecutive_and_a_gap_starts_a_new_chain():
    from domain.processes.disciplinary import plan_period

    now = datetime(2030, 6, 1, tzinfo=timezone.utc)
    touching = [(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2029, 6, 1, tzinfo=timezone.utc)),
                (datetime(2029, 6, 1, tzinfo=timezone.utc), datetime(2031, 6, 1, tzinfo=timezone.utc))]
    plan = plan_period(touching, now=now, years=3, cap_years=5)
    assert plan["chain_started_at"] == touching[0][0] and not plan["remaining"]
    # The second period ends half a year before the cap: a new 3-year period is cut to that half year.
    ending_sooner = [touching[0], (touching[1][0], datetime(2030, 12, 1, tzinfo=timezone.utc))]
    plan = plan_period(ending_sooner, now=now, years=3, cap_years=5)
    assert plan["shortened"] and plan["remaining"] and plan["ends_at"] == datetime(2031, 6, 1, tzinfo=timezone.utc)
    after_a_gap = [(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2029, 6, 1, tzinfo=timezone.utc))]
    plan = plan_period(after_a_gap, now=now, years=3, cap_years=5)
    assert plan["chain_started_at"] == now and not plan["shortened"] and plan["ends_at"] == datetime(2033, 6, 1, tzinfo=timezone.utc)


def test_consecutive_disciplinary_periods_stop_at_five_years_and_expire_into_lift_orders(client, engine, session):
    ident = id_number("42100319851231567")
    icbc = unit_id(engine, "bank.icbc.jz")
    first = punish(client, ident, units=[icbc]).json()["id"]
    advance()
    # Two and a half years into the first 3-year period (as if time had passed) …
    now = datetime.now(timezone.utc)
    chain_start = add_months(now, -30)
    set_data(engine, first, starts_at=chain_start, ends_at=add_months(chain_start, 36))
    # … another 3-year period would run 5.5 years in a row: it is shortened to end at the 5-year cap.
    second = punish(client, ident, measures=["suspend_non_counter", "receive_only"], units=[icbc])
    assert second.status_code == 201, second.text
    data = second.json()["data"]
    assert data["shortened"] is True and datetime.fromisoformat(data["ends_at"]) == add_months(chain_start, 60)
    assert datetime.fromisoformat(data["wanted_ends_at"]) > datetime.fromisoformat(data["ends_at"])
    # Nothing remains under the cap for a third.
    third = punish(client, ident, units=[icbc])
    assert third.status_code == 422 and field_of(third) == "id_number" and "5年上限" in third.json()["detail"][0]["msg"]
    advance()
    second_id = second.json()["id"]
    assert len(orders_of(client, "office", second_id, "disciplinary_measure")) == 2

    # The first period expires: its measure is still required by the second, so nothing is lifted yet.
    set_data(engine, first, wake=True, ends_at=now - timedelta(seconds=1))
    advance()
    expired = process_of(client, "office", first).json()
    assert expired["stage"] == "closed" and expired["data"]["outcome"] == "expired"
    assert expired["data"]["kept_for_other_periods"] == [["suspend_non_counter", icbc]]
    assert not orders_of(client, "office", first, "lift_measure")

    # The second expires: lift orders are issued on their own, and the process closes once they are done.
    set_data(engine, second_id, wake=True, ends_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    advance()
    lifts = orders_of(client, "liaison_icbc", second_id, "lift_measure")
    assert len(lifts) == 2 and all("届满" in o["instructions"] for o in lifts)
    assert process_of(client, "office", second_id).json()["stage"] == "lifting"
    for order in lifts:
        handle(client, "liaison_icbc", order["id"], "已解除")
    advance()
    assert process_of(client, "office", second_id).json()["stage"] == "lifting"  # not until accepted
    for order in lifts:
        accept(client, order["id"])
    advance()
    closed = process_of(client, "office", second_id).json()
    assert closed["stage"] == "closed" and closed["data"]["outcome"] == "expired"
    assert audit.verify(session=session).ok


# ---- 劝阻 ----

def warn(client, area, risk, phone, number=None, name="李四"):
    return client.post("/api/v1/processes/dissuasion", headers=auth("office"), json={
        "area": area, "risk_level": risk, "victim_name": name, "victim_phone": phone,
        **({"warning_number": number} if number else {})})


def test_dissuasion_goes_by_risk_to_the_area_station_and_money_already_lost_becomes_a_case(client, engine, session):
    assert field_of(warn(client, "shashi.zhongshan.v1", "extreme", "13912345678")) == "risk_level"
    assert field_of(warn(client, "nowhere", "high", "13912345678")) == "area"
    assert field_of(warn(client, "shashi.zhongshan.v1", "high", "call me")) == "victim_phone"
    assert warn(client, "shashi.zhongshan.v1", "high", "13912345678").status_code == 201
    high = warn(client, "shashi.zhongshan.v1", "high", "13912345678", number="YJ-20260610-0001")
    assert high.status_code == 201
    assert warn(client, "shashi.zhongshan.v1", "high", "13912345678", number="YJ-20260610-0001").json()["id"] == high.json()["id"]
    medium = warn(client, "jiangling.haoxue", "medium", "13700001111", number="YJ-20260610-0002")
    low = warn(client, "shishou", "low", "13600002222", number="YJ-20260610-0003")
    station = unit_id(engine, "psb.shashi.station")
    assert high.json()["data"]["police_rule"] == "police_unit_by_area.shashi.zhongshan"
    assert medium.json()["data"]["police_rule"] == "fallback_police_unit_code"
    assert high.json()["data"]["victim_name"] == "李*" and high.json()["data"]["victim_phone"] == "139****5678"
    assert "13912345678" not in high.text
    advance()

    expected = {high: ("dissuasion_visit", timedelta(minutes=10)), medium: ("dissuasion_call", timedelta(minutes=5)),
                low: ("dissuasion_sms", timedelta(minutes=5))}
    tasks = {}
    for response, (kind, ack_within) in expected.items():
        [order] = orders_of(client, "police_station", response.json()["id"])
        assert order["kind"] == kind and order["addressee_unit_id"] == station
        assert datetime.fromisoformat(order["acknowledge_by"]) - datetime.fromisoformat(order["issued_at"]) == ack_within
        assert "13912345678" not in json.dumps(order) and "李四" not in json.dumps(order)
        tasks[kind] = order["id"]
    # The result must be one of the policy's outcomes.
    client.post(f"/api/v1/orders/{tasks['dissuasion_visit']}/acknowledge", headers=auth("police_station"))
    wrong = client.post(f"/api/v1/orders/{tasks['dissuasion_visit']}/report", headers=auth("police_station"),
                        json={"text": "已上门", "outcome": "maybe"})
    assert wrong.status_code == 422 and field_of(wrong) == "outcome"
    client.post(f"/api/v1/orders/{tasks['dissuasion_visit']}/report", headers=auth("police_station"),
                json={"text": "已上门劝阻，当事人停止转账", "outcome": "dissuaded"})
    handle(client, "police_station", tasks["dissuasion_call"], "三次拨打无人接听", outcome="not_reached")
    handle(client, "police_station", tasks["dissuasion_sms"], "回访得知已转账", outcome="already_lost")
    for order_id in tasks.values():
        accept(client, order_id)
    advance()

    outcomes = {k: process_of(client, "office", r.json()["id"]).json()["data"]["outcome"] for k, r in
                {"high": high, "medium": medium, "low": low}.items()}
    assert outcomes == {"high": "dissuaded", "medium": "not_reached", "low": "became_case"}
    notices = [n for n in client.get("/api/v1/notices", headers=auth("office")).json() if n["kind"] == "register_case"]
    assert len(notices) == 1 and "登记案件" in notices[0]["message"] and "136****2222" in notices[0]["message"]
    assert notices[0]["order_id"] == tasks["dissuasion_sms"]
    assert client.get("/api/v1/cases", headers=auth("office")).json()["total"] == 0  # not registered by itself
    # The statistics count the numbered warnings and how their dissuasion ended.
    month = figures(client, **this_month())
    assert (month["warnings"][0], month["dissuaded"][0]) == (3, 1)
    assert audit.verify(session=session).ok
