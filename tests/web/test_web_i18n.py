"""The UI's languages: Simplified Chinese by default, English on request; Chinese conventions for
amounts and dates; catalogues complete and compiled."""
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from tests.conftest import ROOT, auth, case_body
from tests.web_helpers import csrf_token, new_browser, signed_in
from web.language import COOKIE
from web.templating import build_environment

I18N = ROOT / "web" / "i18n"


def _render(source: str, language: str, **context) -> str:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"cookie", f"{COOKIE}={language}".encode())],
             "query_string": b""}
    return build_environment().from_string(source).render(request=Request(scope), **context)


def test_chinese_is_the_default_and_english_can_be_chosen(engine, city, client):
    client.post("/api/v1/cases", json=case_body(number="L-1", amount="2750000"), headers=auth("office"))
    office = signed_in(engine, "office")
    chinese = office.get("/office").text
    assert '<html lang="zh-CN">' in chinese and "工作台" in chinese and "275.00万元" in chinese
    switched = office.post("/language", data={"lang": "en", "next": "/office",
                                              "csrf_token": csrf_token(office, "/office")}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/office"
    assert f"{COOKIE}=en" in switched.headers["set-cookie"]
    english = office.get("/office").text
    assert '<html lang="en">' in english and "Dashboard" in english and "Awaiting a leader" in english
    assert "工作台" not in english and "CN¥2,750,000.00" in english
    assert "Bureau chief" in english
    office.post("/language", data={"lang": "zh_CN", "next": "/office", "csrf_token": csrf_token(office, "/office")})
    assert "工作台" in office.get("/office").text


def test_the_sign_in_page_switches_language_before_signing_in(engine, city):
    browser = new_browser(engine)
    browser.post("/language", data={"lang": "en", "next": "/login", "csrf_token": csrf_token(browser, "/login")})
    page = browser.get("/login").text
    assert "Sign in" in page and "Username" in page
    token = csrf_token(browser, "/login")
    refused = browser.post("/login", data={"username": "office", "password": "nope", "csrf_token": token})
    assert "wrong username or password" in refused.text  # domain errors in English too


def test_unknown_language_is_ignored(engine, city):
    browser = new_browser(engine)
    browser.post("/language", data={"lang": "fr", "csrf_token": csrf_token(browser, "/login")})
    assert "登录" in browser.get("/login").text


def test_amounts_and_dates_follow_chinese_conventions():
    at = datetime(2026, 11, 20, 17, 30, tzinfo=timezone.utc)  # 01:30 next day in Beijing
    assert _render("{{ 2750000_00|money }}", "zh_CN") == "275.00万元"
    assert _render("{{ 28000000|money }}", "zh_CN") == "28.00万元"
    assert _render("{{ at|date }}", "zh_CN", at=at) == "2026年11月21日"
    assert _render("{{ at|datetime }}", "zh_CN", at=at) == "2026年11月21日 01:30"
    assert _render("{{ at|date }}", "en", at=at) == "November 21, 2026"
    assert _render("{{ 'research'|stage }}·{{ 'closed'|stage }}", "zh_CN") == "研判·办结"


def _catalogue(language: str):
    with open(I18N / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


def test_the_chinese_catalogue_translates_every_message():
    catalogue = _catalogue("zh_CN")
    untranslated = [m.id for m in catalogue if m.id and (m.fuzzy or not (
        all(m.string) if isinstance(m.string, tuple) else m.string))]
    assert untranslated == []


def test_the_compiled_catalogues_match_their_sources():
    for language in ("zh_CN", "en"):
        def table(catalogue):
            return {tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id:
                    tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string
                    for m in catalogue if m.id and not m.fuzzy and (all(m.string) if isinstance(
                        m.string, (list, tuple)) else m.string)}

        with open(I18N / language / "LC_MESSAGES" / "messages.mo", "rb") as f:
            compiled = table(read_mo(f))
        assert compiled == table(_catalogue(language)), f"web/i18n/{language} .mo is stale: run scripts/i18n.sh"


def test_every_message_in_the_code_is_in_the_catalogue():
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                        "lstrip_blocks": "true"}}
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "tr": (2,)}
    found = {message for _, _, message, _, _ in extract_from_dir(str(ROOT / "web"), method_map, options, keywords)}
    found = {m[0] if isinstance(m, tuple) else m for m in found}
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalogue("zh_CN") if m.id}
    assert sorted(found - known) == [], "new UI text: run scripts/i18n.sh and translate it"
    assert Path(I18N / "messages.pot").exists()
