"""How the JSON API answers a refused request: FastAPI's validation-error shape, the message in
the language the caller asks for (Accept-Language; Chinese unless English is asked for)."""
from fastapi import Request
from fastapi.responses import JSONResponse

from domain.errors import DomainError


def accept_language(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def domain_error_json(request: Request, exc: DomainError) -> JSONResponse:
    # Several fields at fault (InvalidFields) are all listed, each with its field.
    detail = [{"loc": ["body", e.field] if e.field else [], "msg": e.message(accept_language(request)), "type": e.code}
              for e in getattr(exc, "errors", [exc])]
    return JSONResponse(status_code=exc.status, content={"detail": detail})
