"""The leader's pages: the approval queue (amount in 万元, tier rule, deadline, overdue marked),
one-click decisions that swap the row, the live poll, and the cases they took (包案)."""
import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from domain.escalation import service as escalation
from domain.escalation.models import Approval
from domain.timeutil import utcnow
from tests.conftest import auth, case_body
from tests.web_helpers import csrf_token, htmx_post, post_form, signed_in


def register(client, number: str, amount: str) -> dict:
    response = client.post("/api/v1/cases", json=case_body(number=number, amount=amount), headers=auth("office"))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def cid_head(engine, city):
    return signed_in(engine, "cid_head")


def test_the_queue_shows_amount_rule_and_deadline(awkward_day, client, cid_head):
    register(client, "Q-1", "280000")
    register(client, "Q-2", "2750000")  # the chief's, not shown here
    html = cid_head.get("/leader/queue").text
    assert "Q-1" in html and "Q-2" not in html
    assert "28.00万元" in html
    assert "在20万元（含）至50万元（不含）之间，由刑侦支队长包案" in html and "领导包案" in html  # why, and its basis
    assert "jingzhou.cid_head" not in html  # a leader reads sentences, not rule ids
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", html)   # the deadline, Beijing time
    assert "共 1 件待您审批" in html
    assert 'hx-trigger="every 2s"' in html


def test_an_overdue_approval_is_marked(awkward_day, client, cid_head, engine):
    register(client, "Q-3", "300000")
    with Session(engine) as s:
        approval = s.exec(select(Approval)).one()
        approval.due_at = utcnow() - timedelta(minutes=5)
        s.add(approval)
        s.commit()
    html = cid_head.get("/leader/queue").text
    assert 'class="overdue"' in html and "已超时" in html


def test_the_leader_approves_from_the_queue_in_one_request(client, cid_head, session):
    approval_id = register(client, "Q-4", "280000")["approval"]["id"]
    response = htmx_post(cid_head, f"/leader/approvals/{approval_id}/decision", {"decision": "approve", "comment": ""},
                         page="/leader/queue")
    assert response.status_code == 200
    row = response.text.strip()
    assert row.startswith(f'<tr id="approval-{approval_id}"') and "decided" in row and "已同意" in row
    assert "由您包案" in row
    assert session.get(Approval, approval_id).status == "approved"


def test_return_needs_a_comment_shown_next_to_it(client, cid_head, session):
    approval_id = register(client, "Q-5", "280000")["approval"]["id"]
    response = htmx_post(cid_head, f"/leader/approvals/{approval_id}/decision", {"decision": "return", "comment": " "},
                         page="/leader/queue")
    assert response.status_code == 422
    assert f'id="err-comment-{approval_id}"' in response.text and "退回时请填写意见" in response.text
    assert session.get(Approval, approval_id).status == "pending"
    returned = htmx_post(cid_head, f"/leader/approvals/{approval_id}/decision",
                         {"decision": "return", "comment": "证据不足，请补充银行流水"}, page="/leader/queue")
    assert returned.status_code == 200 and "已退回" in returned.text
    approval = session.get(Approval, approval_id)
    assert approval.status == "returned" and approval.comment == "证据不足，请补充银行流水"


def test_a_leader_of_another_tier_cannot_decide(client, engine, session):
    approval_id = register(client, "Q-6", "280000")["approval"]["id"]
    for username in ("deputy", "chief"):
        other = signed_in(engine, username)
        response = htmx_post(other, f"/leader/approvals/{approval_id}/decision", {"decision": "approve"},
                             page="/leader/queue")
        assert response.status_code == 403
        assert "Q-6" not in response.text and "不是呈报给您的" in response.text
        assert "Q-6" not in other.get("/leader/queue").text
    office = signed_in(engine, "office")
    assert post_form(office, f"/leader/approvals/{approval_id}/decision", {"decision": "approve"},
                     page="/office").status_code == 403
    assert session.get(Approval, approval_id).status == "pending"


def test_a_second_decision_is_refused_in_the_row(client, cid_head):
    approval_id = register(client, "Q-7", "280000")["approval"]["id"]
    path = f"/leader/approvals/{approval_id}/decision"
    assert htmx_post(cid_head, path, {"decision": "approve"}, page="/leader/queue").status_code == 200
    again = htmx_post(cid_head, path, {"decision": "return", "comment": "再议"}, page="/leader/queue")
    assert again.status_code == 409 and "不能重复审批" in again.text


def test_without_javascript_the_decision_form_posts_and_comes_back(client, cid_head, session):
    approval_id = register(client, "Q-8", "280000")["approval"]["id"]
    response = cid_head.post(f"/leader/approvals/{approval_id}/decision",
                             data={"decision": "approve", "csrf_token": csrf_token(cid_head, "/leader/queue")},
                             follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/leader/queue"
    assert session.get(Approval, approval_id).status == "approved"


def test_the_poll_answers_204_until_the_queue_changes(client, cid_head):
    register(client, "P-1", "280000")
    page = cid_head.get("/leader/queue").text
    version = re.search(r'data-version="([0-9a-f]+)"', page).group(1)
    poll = {"HX-Request": "true"}
    assert cid_head.get(f"/leader/queue/rows?v={version}", headers=poll).status_code == 204
    register(client, "P-2", "300000")  # a new approval arrives
    fresh = cid_head.get(f"/leader/queue/rows?v={version}", headers=poll)
    assert fresh.status_code == 200 and "P-2" in fresh.text and "P-1" in fresh.text
    assert fresh.text.strip().startswith('<section id="queue"')
    new_version = re.search(r'data-version="([0-9a-f]+)"', fresh.text).group(1)
    assert new_version != version
    assert cid_head.get(f"/leader/queue/rows?v={new_version}", headers=poll).status_code == 204


def test_my_cases_lists_what_the_leader_took(client, engine, cid_head):
    approval_id = register(client, "M-1", "280000")["approval"]["id"]
    assert "您尚无包案案件" in cid_head.get("/leader/cases").text
    htmx_post(cid_head, f"/leader/approvals/{approval_id}/decision", {"decision": "approve"}, page="/leader/queue")
    with Session(engine) as s:
        escalation.apply_decision(session=s, approval_id=approval_id)  # the flow's follow-up
        s.commit()
    html = cid_head.get("/leader/cases").text
    assert "M-1" in html and "28.00万元" in html
    assert '<li class="current">办理</li>' in html


def test_only_leaders_have_a_queue(engine, city):
    office = signed_in(engine, "office")
    assert office.get("/leader/queue").status_code == 403
    assert office.get("/leader/cases").status_code == 403
