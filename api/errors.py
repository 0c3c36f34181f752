"""How the JSON API answers a refused request: FastAPI's validation-error shape, the message in
the language the caller asks for (Accept-Language; Chinese unless English is asked for)."""
from fastapi import Request
from fastapi.responses import JSONResponse

from domain.errors import DomainError
from httpkit.problems import error_response


def accept_language(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def domain_error_json(request: Request, exc: DomainError) -> JSONResponse:
    """FastAPI's shape, or RFC 9457 problem details when the caller accepts application/problem+json.
    Several fields at fault (InvalidFields) are all listed, each with its field."""
    detail = [{"loc": ["body", e.field] if e.field else [], "msg": e.message(accept_language(request)), "type": e.code}
              for e in getattr(exc, "errors", [exc])]
    return error_response(request, exc.status, detail)
