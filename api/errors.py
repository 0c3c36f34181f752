"""How the JSON API answers a refused request: FastAPI's validation-error shape, the message in
the language the caller asks for (Accept-Language; Chinese unless English is asked for)."""
from fastapi import Request
from fastapi.responses import JSONResponse

from domain.errors import DomainError
from httpkit.problems import error_response


def accept_language(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def domain_error_json(request: Request, exc: DomainError) -> JSONResponse:
    """FastAPI's shape, or RFC 9457 problem details when the caller accepts application/problem+json."""
    loc = ["body", exc.field] if exc.field else []
    detail = [{"loc": loc, "msg": exc.message(accept_language(request)), "type": exc.code}]
    return error_response(request, exc.status, detail)
