"""User administration in the browser: create, assign unit/role/tier, reset a password,
deactivate (the session ends at once) — each change in the audit trail."""
import json
import re

import pytest
from sqlmodel import select

from domain.audit import service as audit
from domain.audit.models import AuditEvent
from domain.users.models import User
from tests.web_helpers import field_error, new_browser, post_form, sign_in, signed_in


@pytest.fixture
def admin(engine, city):
    return signed_in(engine, "admin")


def _unit_id(browser, name: str) -> str:
    return re.search(rf'<option value="(\d+)">[^<]*{name}</option>', browser.get("/admin/users/new").text).group(1)


def test_admin_creates_a_leader_who_can_then_sign_in(admin, engine, session):
    form = {"username": "deputy2", "display_name": "分管副局长 刘洋", "role": "leader", "leader_tier": "deputy",
            "unit_id": _unit_id(admin, "荆州市公安局"), "password": "spring river moon"}
    response = post_form(admin, "/admin/users/new", form, page="/admin/users/new")
    assert response.status_code == 303
    created = session.exec(select(User).where(User.username == "deputy2")).one()
    assert created.role == "leader" and created.leader_tier == "deputy" and created.password_hash.startswith("$argon2id$")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
    assert event.actor == "admin" and json.loads(event.after)["leader_tier"] == "deputy"
    assert "argon2" not in (event.after or "")
    assert audit.verify(session=session).ok
    assert sign_in(new_browser(engine), "deputy2", "spring river moon").headers["location"] == "/leader/queue"


def test_a_bad_user_form_keeps_what_was_typed(admin, session):
    form = {"username": "Bad Name!", "display_name": "张三", "role": "office", "leader_tier": "",
            "unit_id": _unit_id(admin, "荆州市公安局"), "password": "spring river moon"}
    response = post_form(admin, "/admin/users/new", form, page="/admin/users/new")
    assert response.status_code == 422
    assert "小写字母" in field_error(response.text, "username")
    assert 'value="张三"' in response.text
    leader_without_tier = post_form(admin, "/admin/users/new", {**form, "username": "lead3", "role": "leader"},
                                    page="/admin/users/new")
    assert field_error(leader_without_tier.text, "leader_tier")
    weak = post_form(admin, "/admin/users/new", {**form, "username": "weak1", "password": "1234567890"},
                     page="/admin/users/new")
    assert "过于简单" in field_error(weak.text, "password")
    assert session.exec(select(User).where(User.username.in_(["lead3", "weak1"]))).all() == []


def test_admin_moves_a_user_to_another_unit_and_role(admin, city, session):
    target = city["liaison_ccb"]
    response = post_form(admin, f"/admin/users/{target.id}", {
        "display_name": "建行联络员 赵磊", "role": "liaison", "leader_tier": "",
        "unit_id": _unit_id(admin, "工商银行江陵支行")}, page="/admin/users")
    assert response.status_code == 303
    moved = session.get(User, target.id)
    assert moved.unit_id == int(_unit_id(admin, "工商银行江陵支行"))
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.assigned")).one()
    assert json.loads(event.before)["unit_id"] != json.loads(event.after)["unit_id"]
    assert "变更单位或角色" in admin.get(f"/admin/users/{target.id}").text


def test_deactivation_ends_the_session_at_once(admin, engine, city, session):
    liaison = signed_in(engine, "liaison_icbc")
    assert liaison.get("/home").status_code == 200
    response = post_form(admin, f"/admin/users/{city['liaison_icbc'].id}/deactivate", {}, page="/admin/users")
    assert response.status_code == 303
    assert liaison.get("/home", follow_redirects=False).status_code == 303  # signed out
    refused = sign_in(new_browser(engine), "liaison_icbc")
    assert refused.status_code == 401 and "已停用" in refused.text
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.deactivated")).one().actor == "admin"
    assert post_form(admin, f"/admin/users/{city['liaison_icbc'].id}/reactivate", {},
                     page="/admin/users").status_code == 303
    assert sign_in(new_browser(engine), "liaison_icbc").status_code == 303


def test_the_last_leader_of_a_tier_and_the_admin_themself_are_kept(admin, city):
    last = post_form(admin, f"/admin/users/{city['cid_head'].id}/deactivate", {}, page="/admin/users")
    assert last.status_code == 409 and "唯一在岗" in last.text
    me = post_form(admin, f"/admin/users/{city['admin'].id}/deactivate", {}, page="/admin/users")
    assert me.status_code == 403 and "不能停用自己" in me.text


def test_admin_resets_a_password(admin, engine, city):
    response = post_form(admin, f"/admin/users/{city['office'].id}/password", {"password": "blue heron at dawn"},
                         page="/admin/users")
    assert response.status_code == 303
    assert sign_in(new_browser(engine), "office").status_code == 401
    assert sign_in(new_browser(engine), "office", "blue heron at dawn").status_code == 303


def test_only_admins_administer(engine, city):
    office = signed_in(engine, "office")
    assert office.get("/admin/users").status_code == 403
    assert post_form(office, "/admin/users/new", {"username": "x"}, page="/office").status_code == 403


def test_the_operator_sets_a_password_from_the_command_line(engine, city, session):
    from sqlmodel import Session as WriteSession

    from domain.accounts import service as accounts

    with WriteSession(engine) as s:
        accounts.operator_set_password(session=s, username="admin", new_password="lotus pond evening",
                                       operator="operator:cli")
        s.commit()
    assert sign_in(new_browser(engine), "admin", "lotus pond evening").status_code == 303
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert event.actor == "operator:cli"
