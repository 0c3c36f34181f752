"""POST /api/v1/orders/acknowledgements and /acceptances: a bank's system acknowledges several
orders in one call, the office accepts several reports; the answer lists each order's fate."""
from tests.conftest import auth, unit_id


def _issue(client, engine, unit: str, title: str) -> int:
    response = client.post("/api/v1/orders", headers=auth("office"), json={
        "kind": "supervision", "addressee_unit_id": unit_id(engine, unit), "title": title})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_bank_acknowledges_several_orders_in_one_call_and_reads_which_were_refused(client, engine):
    mine = [_issue(client, engine, "bank.icbc.jz", f"核查{n}") for n in range(2)]
    foreign = _issue(client, engine, "bank.ccb.jz", "建行指令")
    response = client.post("/api/v1/orders/acknowledgements", headers=auth("liaison_icbc"),
                           json={"order_ids": [*mine, foreign, mine[0]]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (2, 1)  # the repeated id counts once
    assert [(i["order_id"], i["ok"], i["status"]) for i in body["items"][:2]] == [(m, True, "acknowledged") for m in mine]
    refused = body["items"][2]
    assert refused == {"order_id": foreign, "ok": False, "status": None, "code": "order_not_found",
                       "message_zh": refused["message_zh"], "message_en": refused["message_en"]}
    assert client.get(f"/api/v1/orders/{mine[1]}", headers=auth("liaison_icbc")).json()["status"] == "acknowledged"
    again = client.post("/api/v1/orders/acknowledgements", headers=auth("liaison_icbc"), json={"order_ids": mine}).json()
    assert again["succeeded"] == 0 and {i["code"] for i in again["items"]} == {"bad_transition"}


def test_the_office_accepts_several_reports_in_one_call(client, engine):
    ids = [_issue(client, engine, "bank.icbc.jz", f"核查{n}") for n in range(3)]
    for order_id in ids[:2]:
        client.post(f"/api/v1/orders/{order_id}/acknowledge", headers=auth("liaison_icbc"))
        assert client.post(f"/api/v1/orders/{order_id}/report", headers=auth("liaison_icbc"),
                           json={"text": "已办理"}).status_code == 200
    body = client.post("/api/v1/orders/acceptances", headers=auth("office"),
                       json={"order_ids": ids, "comment": "验收通过"}).json()
    assert (body["succeeded"], body["failed"]) == (2, 1)
    assert body["items"][2]["code"] == "bad_transition" and "待签收" in body["items"][2]["message_zh"]


def test_a_batch_is_refused_whole_for_the_wrong_role_or_no_orders(client, engine):
    order_id = _issue(client, engine, "bank.icbc.jz", "核查")
    assert client.post("/api/v1/orders/acknowledgements", headers=auth("office"),
                       json={"order_ids": [order_id]}).status_code == 403
    assert client.post("/api/v1/orders/acceptances", headers=auth("liaison_icbc"),
                       json={"order_ids": [order_id]}).status_code == 403
    assert client.post("/api/v1/orders/acknowledgements", headers=auth("liaison_icbc"),
                       json={"order_ids": []}).status_code == 422
