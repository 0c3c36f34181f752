"""One Jinja2 environment for the web pages: gettext per request (the i18n extension with
context-aware callables, so concurrent requests in different languages never mix), and the
filters that show amounts, dates and domain codes the way the office writes them."""
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel.core import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from domain.money import format_wan
from domain.orders.kinds import all_kinds as order_kinds
from domain.orders.overview import outcome_name_zh
from domain.timeutil import SHANGHAI
from web import labels
from web.language import HTML_LANG, SUPPORTED, language_of, short, translations
from web.security import CSRF_FIELD, csrf_token

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=8)
def _locale(language: str) -> Locale:
    """Babel parses a locale name on every call (a scan of all its locales): parse each once."""
    return Locale.parse(language)


def _language(context) -> str:
    request = context.get("request")
    return language_of(request) if request is not None else "zh_CN"


@pass_context
def _gettext(context, message: str) -> str:
    return translations(_language(context)).gettext(message)


@pass_context
def _ngettext(context, singular: str, plural: str, n: int) -> str:
    return translations(_language(context)).ngettext(singular, plural, n)


@pass_context
def money(context, fen: int | None) -> str:
    """Amounts from fen: 275.00万元 in Chinese, CN¥2,750,000.00 in English."""
    if fen is None:
        return ""
    if _language(context) == "en":
        return format_currency(Decimal(fen) / 100, "CNY", locale=_locale("en"))
    return format_wan(fen)


@pass_context
def filesize(context, size: int | None) -> str:
    """512 字节 / 12.3 KB / 4.5 MB (Jinja's filesizeformat says "Bytes" in the Chinese UI)."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes" if _language(context) == "en" else f"{size} 字节"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""


def _local(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI)


@pass_context
def date_text(context, value: datetime | None) -> str:
    """2026年11月21日 (Beijing time) / November 21, 2026."""
    if value is None:
        return ""
    local = _local(value) if isinstance(value, datetime) else value
    return format_date(local, "long", locale=_locale(_language(context)))


@pass_context
def datetime_text(context, value: datetime | None) -> str:
    """2026年11月21日 14:05 (Beijing time)."""
    if value is None:
        return ""
    local = _local(value)
    day = format_date(local, "long", locale=_locale(_language(context)))
    return f"{day} {format_time(local, 'HH:mm', locale=_locale('en'))}"


@pass_context
def month_text(context, value: str | None) -> str:
    """A "2026-10" month the way the office writes it: 2026年10月 / October 2026."""
    if not value or len(value) != 7:
        return value or ""
    if _language(context) == "en":
        return format_date(datetime(int(value[:4]), int(value[5:7]), 1), "MMMM y", locale=_locale("en"))
    return f"{int(value[:4])}年{int(value[5:7])}月"


def iso_local(value: datetime | None) -> str:
    """For <time datetime=…> and <input type=datetime-local>: Beijing wall-clock time."""
    return _local(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _label(table: dict[str, str]):
    @pass_context
    def translate(context, key: str | None) -> str:
        if key is None:
            return ""
        message = table.get(key)
        return translations(_language(context)).gettext(message) if message else key
    return translate


def _domain_named(english: dict[str, str], chinese):
    """Codes whose Chinese name is the domain's own (an order kind's or an outcome's declared name): that in Chinese, the catalogue's English in English."""
    @pass_context
    def name(context, key: str | None) -> str:
        if key is None:
            return ""
        if _language(context) == "en" and key in english:
            return translations("en").gettext(english[key])
        return chinese(key) or key
    return name


def _order_kind_zh(kind: str) -> str | None:
    declared = order_kinds().get(kind)
    return declared.label_zh if declared else None


@pass_context
def declared(context, thing) -> str:
    """A name the domain declares in both languages (a process kind, stage, field, action, outcome)."""
    english = _language(context) == "en"
    for zh, en in (("label_zh", "label_en"), ("zh", "en")):
        if hasattr(thing, zh):
            return getattr(thing, en) if english else getattr(thing, zh)
    return str(thing)


@pass_context
def process_kind(context, name: str | None) -> str:
    from domain.processes import registry

    found = next((k for k in registry.kinds() if k.name == name), None)
    return declared(context, found) if found else (name or "")


@pass_context
def process_stage(context, stage: str | None, kind: str | None = None) -> str:
    from domain.processes import registry

    found = next((k for k in registry.kinds() if k.name == kind), None)
    named = found.stage(stage) if found else next((s for k in registry.kinds() for s in k.stages if s.code == stage),
                                                  None)
    return declared(context, named) if named else (stage or "")


@pass_context
def iso_datetime(context, value: str | None, with_time: bool = True) -> str:
    """A time stored as ISO text (a process's data) shown as the office writes it."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return datetime_text(context, moment) if with_time else date_text(context, moment)


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "svg", "xml"], default=True),
                             extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(money=money, filesize=filesize, date=date_text, datetime=datetime_text, iso_local=iso_local,
                       month=month_text,
                       stage=_label(labels.STAGES), escalation_state=_label(labels.ESCALATION_STATES),
                       role=_label(labels.ROLES), tier=_label(labels.LEADER_TIERS),
                       approval_status=_label(labels.APPROVAL_STATUSES), action=_label(labels.AUDIT_ACTIONS),
                       field_label=_label(labels.CHANGE_FIELDS), order_status=_label(labels.ORDER_STATUSES),
                       notice_kind=_label(labels.NOTICE_KINDS), declared=declared, process_kind=process_kind,
                       process_stage=process_stage, iso_datetime=iso_datetime,
                       entity_type=_label(labels.ENTITY_TYPES),
                       order_kind=_domain_named(labels.ORDER_KINDS, _order_kind_zh),
                       outcome=_domain_named(labels.ORDER_OUTCOMES, outcome_name_zh))
    env.globals.update(CSRF_FIELD=CSRF_FIELD, LANGUAGES=SUPPORTED)
    return env


templates = Jinja2Templates(env=build_environment())


def page_context(request: Request, user=None, **context: Any) -> dict[str, Any]:
    from web.nav import navigation  # late: nav reads the app's routes

    language = language_of(request)
    return {"request": request, "user": user, "csrf_token": csrf_token(request), "lang": language,
            "short_lang": short(language), "html_lang": HTML_LANG[language],
            "nav": navigation(request, user), **context}


def render(request: Request, name: str, *, user=None, status_code: int = 200, headers: dict | None = None,
           **context: Any):
    response = templates.TemplateResponse(request, name, page_context(request, user, **context),
                                          status_code=status_code, headers=headers)
    response.headers.setdefault("vary", "HX-Request, Cookie")
    return response
