"""The UI's languages: Simplified Chinese by default, English on request (a cookie), through the
gettext catalogues in web/i18n (messages.pot → <lang>/LC_MESSAGES/messages.po → .mo)."""
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from web.security import safe_next, set_cookie

CATALOGUES = Path(__file__).parent / "i18n"
DEFAULT = "zh_CN"
SUPPORTED: dict[str, str] = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
COOKIE = "lianban_lang"

router = APIRouter()


def language_of(request: Request) -> str:
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in SUPPORTED else DEFAULT


def short(language: str) -> str:
    """The form DomainError.message() takes: "zh" or "en"."""
    return "en" if language == "en" else "zh"


@lru_cache(maxsize=len(SUPPORTED))
def translations(language: str) -> NullTranslations:
    return Translations.load(str(CATALOGUES), [language], domain="messages")


def tr(request: Request, message: str, **variables) -> str:
    """Translate a message for the person making the request (Python code; templates use _())."""
    text = translations(language_of(request)).gettext(message)
    return text % variables if variables else text


@router.post("/language")
def switch_language(request: Request, lang: str = Form(...), next: str = Form("/")) -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in SUPPORTED:
        set_cookie(request, response, COOKIE, lang, max_age=365 * 24 * 3600)
    return response
