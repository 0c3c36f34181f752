"""Finding 5 of issue 16: no default credentials. The demo city's public tokens and passwords
work only in demo mode, and a production start on an empty database creates one administrator
with a one-time password, printed once."""
import re

import pytest
from sqlmodel import Session, select

from cli.supervisor import prepare_database
from domain.settings import Settings, get_settings
from domain.users.models import User
from tests.conftest import auth
from tests.web_helpers import new_browser, sign_in


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setattr(get_settings(), "demo", False)


def test_demo_tokens_are_refused_outside_demo_mode(client, production):
    response = client.get("/api/v1/cases", headers=auth("admin"))
    assert response.status_code == 401


def test_demo_passwords_do_not_sign_in_outside_demo_mode(engine, city, production):
    assert sign_in(new_browser(engine), "admin").status_code == 401


def test_demo_tokens_work_in_demo_mode(client):
    assert client.get("/api/v1/cases", headers=auth("office")).status_code == 200


def test_lianban_up_loads_the_demo_only_when_asked():
    from typer.testing import CliRunner

    from cli.main import app

    help_text = CliRunner().invoke(app, ["up", "--help"], env={"COLUMNS": "200"}).output
    assert "--demo" in help_text and "--no-demo" in help_text and "[default: no-demo]" in help_text


def test_a_production_start_creates_the_first_admin_with_a_one_time_password(engine, capsys):
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    prepare_database(settings, load_demo=False)
    printed = capsys.readouterr().out
    password = re.search(r"一次性密码（只显示这一次）：\s+(\S+)", printed).group(1)
    with Session(engine) as s:
        users = s.exec(select(User)).all()
    assert [(u.username, u.role, u.token_hash) for u in users] == [("admin", "admin", None)]
    assert password not in users[0].password_hash
    assert sign_in(new_browser(engine), "admin", password).status_code == 303
    prepare_database(settings, load_demo=False)  # the next start: nothing new, nothing printed
    assert capsys.readouterr().out == ""
