"""Error answers of the JSON API, and how OpenAPI documents them.

Two shapes, chosen by the caller's Accept header: FastAPI's `{"detail": [...]}` (the default,
what existing integrations parse) or RFC 9457 problem details (`application/problem+json`: type,
title, status, detail, instance, and the same items under `errors`). Both are declared for every
error status in the schema, and binary downloads are declared as what they are."""
from http import HTTPStatus

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

PROBLEM_JSON = "application/problem+json"
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429)


class ErrorItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """FastAPI's shape: a list of errors, or one sentence (an unknown path)."""
    detail: list[ErrorItem] | str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` carries the field-level items."""
    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ErrorItem] = []


def _declared(status: int) -> dict:
    return {"description": HTTPStatus(status).phrase, "model": ErrorBody,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


ERROR_RESPONSES: dict[int | str, dict] = {status: _declared(status) for status in ERROR_STATUSES}
BINARY = {"schema": {"type": "string", "format": "binary"}}
PDF_RESPONSE = {200: {"description": "the PDF", "content": {"application/pdf": BINARY}}}
EVIDENCE_RESPONSE = {200: {"description": "the evidence file, as uploaded",
                           "content": {"application/pdf": BINARY, "image/png": BINARY, "image/jpeg": BINARY}}}


def wants_problem(request: Request) -> bool:
    return PROBLEM_JSON in request.headers.get("accept", "")


def error_response(request: Request, status: int, detail: list[dict] | str, headers: dict | None = None) -> JSONResponse:
    if not wants_problem(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    items = detail if isinstance(detail, list) else []
    sentence = detail if isinstance(detail, str) else "; ".join(str(i.get("msg", "")) for i in items[:5])
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
            "detail": sentence or HTTPStatus(status).phrase, "instance": request.url.path, "errors": items}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def register_problem_schema(openapi: dict) -> dict:
    """Put `Problem` among the schema's components (referenced by every error response)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    for name, schema in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["Problem"].pop("$defs", None)
    return openapi
