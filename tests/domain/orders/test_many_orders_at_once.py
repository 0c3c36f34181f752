"""Many orders at once: a liaison acknowledges several orders, the office accepts several reports.
Each order is its own transition — audited on its own, refused on its own with the reason — and a
refused one leaves the others done."""
import pytest
from sqlmodel import Session, select

from domain.audit.models import AuditEvent
from domain.errors import Forbidden, InvalidInput
from domain.orders import bulk
from domain.orders import service as orders
from domain.orders.models import Order
from tests.conftest import unit_id


def _issue(engine, city, unit_code: str, title: str) -> int:
    with Session(engine) as s:
        order = orders.issue_by_office(session=s, actor=city["office"], kind="supervision",
                                       addressee_unit_id=unit_id(engine, unit_code), title=title)
        s.commit()
        return order.id


def _entries(session, action: str, actor: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor == actor)
                             .order_by(AuditEvent.seq)).all())


def test_a_liaison_acknowledges_three_orders_and_is_told_why_two_others_were_not(engine, city, clock, session):
    mine = [_issue(engine, city, "bank.icbc.jz", f"核查开户资料{n}") for n in range(3)]
    done_before = _issue(engine, city, "bank.icbc.jz", "已签收的指令")
    others = _issue(engine, city, "bank.ccb.jz", "建行的指令")
    with Session(engine) as s:
        orders.acknowledge(session=s, actor=city["liaison_icbc"], order_id=done_before)
        s.commit()
    with Session(engine) as s:
        result = bulk.acknowledge_many(session=s, actor=city["liaison_icbc"], order_ids=[*mine, done_before, others])
        s.commit()
    assert [i.order_id for i in result.succeeded] == mine
    assert [i.title for i in result.succeeded] == ["核查开户资料0", "核查开户资料1", "核查开户资料2"]
    already, foreign = result.failed
    assert already.title == "已签收的指令" and already.code == "bad_transition" and "已签收" in already.message("zh")
    assert foreign.title is None and foreign.code == "order_not_found"  # another bank's order: nothing shown
    assert "建行" not in foreign.message("zh")
    assert {o.status for o in session.exec(select(Order).where(Order.id.in_(mine))).all()} == {"acknowledged"}
    assert session.get(Order, others).status == "issued"
    # Each acknowledgement is its own audited transition; each refusal is audited too.
    acknowledged = _entries(session, "order.acknowledged", "liaison_icbc")
    assert sorted(e.entity_id for e in acknowledged) == sorted([*mine, done_before])
    refused = _entries(session, "order.refused", "liaison_icbc")
    assert sorted(e.entity_id for e in refused) == sorted([done_before, others])


def test_the_office_accepts_several_reports_and_one_not_yet_reported_stays(engine, city, clock, session):
    reported = [_issue(engine, city, "bank.icbc.jz", f"反馈{n}") for n in range(2)]
    waiting = _issue(engine, city, "bank.icbc.jz", "尚未反馈")
    with Session(engine) as s:
        for order_id in reported:
            orders.acknowledge(session=s, actor=city["liaison_icbc"], order_id=order_id)
            orders.report(session=s, actor=city["liaison_icbc"], order_id=order_id, text="已核查，情况属实")
        s.commit()
    with Session(engine) as s:
        result = bulk.accept_many(session=s, actor=city["office"], order_ids=[*reported, waiting], comment="同意")
        s.commit()
    assert [i.order_id for i in result.succeeded] == reported and all(i.status == "accepted" for i in result.succeeded)
    (stays,) = result.failed
    assert stays.order_id == waiting and stays.title == "尚未反馈" and "待签收" in stays.message("zh")
    assert [session.get(Order, i).review_comment for i in reported] == ["同意", "同意"]
    assert session.get(Order, waiting).status == "issued"
    assert sorted(e.entity_id for e in _entries(session, "order.accepted", "office")) == reported


def test_the_wrong_role_or_an_empty_choice_is_refused_as_a_whole(engine, city, clock):
    order_id = _issue(engine, city, "bank.icbc.jz", "核查")
    with Session(engine) as s:
        with pytest.raises(Forbidden):
            bulk.acknowledge_many(session=s, actor=city["office"], order_ids=[order_id])
        with pytest.raises(Forbidden):
            bulk.accept_many(session=s, actor=city["liaison_icbc"], order_ids=[order_id])
        with pytest.raises(InvalidInput) as empty:
            bulk.acknowledge_many(session=s, actor=city["liaison_icbc"], order_ids=[])
        assert empty.value.zh == "请至少勾选一条指令"
