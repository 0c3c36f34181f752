"""The pages for many orders at once: the liaison ticks orders in the inbox and acknowledges them
together, the office ticks reported orders in the list and accepts them together; the next page
says which went through and why the others did not."""
import re

from sqlmodel import Session

from domain.orders import service as orders
from tests.conftest import unit_id
from tests.web_helpers import post_form, signed_in


def _issue(engine, city, unit: str, title: str) -> int:
    with Session(engine) as s:
        order = orders.issue_by_office(session=s, actor=city["office"], kind="supervision",
                                       addressee_unit_id=unit_id(engine, unit), title=title)
        s.commit()
        return order.id


def test_the_liaison_ticks_orders_in_the_inbox_and_acknowledges_them_together(engine, city, clock):
    ids = [_issue(engine, city, "bank.icbc.jz", f"核查收款账户{n}") for n in range(3)]
    liaison = signed_in(engine, "liaison_icbc")
    inbox = liaison.get("/inbox").text
    assert 'form id="bulk-acknowledge"' in inbox and "签收所勾选的指令" in inbox
    assert sorted(int(i) for i in re.findall(r'name="order_id" value="(\d+)"\s+form="bulk-acknowledge"', inbox)) == ids
    with Session(engine) as s:  # a colleague acknowledged one meanwhile
        orders.acknowledge(session=s, actor=city["liaison_icbc"], order_id=ids[2])
        s.commit()
    page = post_form(liaison, "/inbox/acknowledge", {"order_id": [str(i) for i in ids]}, page="/inbox").text
    assert "办理成功2条，未办理1条" in page
    done = page[page.index('class="plain batch-ok"'):page.index('class="plain batch-failed"')]
    assert "核查收款账户0" in done and "核查收款账户1" in done and "已签收" in done
    failed = page[page.index('class="plain batch-failed"'):]
    assert "核查收款账户2" in failed and "指令当前状态为“已签收”" in failed
    assert not re.findall(r'name="order_id" value="\d+"\s+form="bulk-acknowledge"', liaison.get("/inbox").text)  # none left to tick


def test_nothing_ticked_says_so(engine, city, clock):
    liaison = signed_in(engine, "liaison_icbc")
    response = post_form(liaison, "/inbox/acknowledge", {}, page="/inbox")
    assert response.status_code == 422 and "请至少勾选一条指令" in response.text


def test_the_office_ticks_reported_orders_and_accepts_them_together(engine, city, clock):
    ids = [_issue(engine, city, "bank.icbc.jz", f"反馈{n}") for n in range(2)]
    with Session(engine) as s:
        for order_id in ids:
            orders.acknowledge(session=s, actor=city["liaison_icbc"], order_id=order_id)
            orders.report(session=s, actor=city["liaison_icbc"], order_id=order_id, text="已核查")
        s.commit()
    waiting = _issue(engine, city, "bank.icbc.jz", "未反馈")
    office = signed_in(engine, "office")
    listing = office.get("/orders").text
    ticks = [int(i) for i in re.findall(r'name="order_id" value="(\d+)" form="bulk-accept"', listing)]
    assert sorted(ticks) == ids  # only reported orders can be ticked
    assert "验收通过所勾选的反馈" in listing
    page = post_form(office, "/orders/accept-reports", {"order_id": [*map(str, ids), str(waiting)], "comment": "同意"},
                     page="/orders").text
    assert "办理成功2条，未办理1条" in page and "已验收通过" in page and "未反馈" in page
    assert office.get(f"/orders/{ids[0]}").text.count("已验收") >= 1
