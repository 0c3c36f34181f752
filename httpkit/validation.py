"""A refused JSON body, answered without echoing it: pydantic puts the offending input in every
error, so a 27 MB batch came back as a 25 MB error. Inputs are cut to a short preview."""
import json

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import Request

from httpkit.problems import error_response

MAX_ERRORS = 20
MAX_INPUT_CHARS = 120


def _preview(value) -> object:
    try:
        text = json.dumps(jsonable_encoder(value), ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) <= MAX_INPUT_CHARS:
        return value
    return text[:MAX_INPUT_CHARS] + f"…（共 {len(text):,} 个字符，已截断）"


def bounded_errors(exc: RequestValidationError) -> list[dict]:
    errors = []
    for error in exc.errors()[:MAX_ERRORS]:
        error = {k: v for k, v in error.items() if k != "ctx" or len(str(v)) <= MAX_INPUT_CHARS}
        if "input" in error:
            error["input"] = _preview(error["input"])
        errors.append(error)
    return jsonable_encoder(errors)


def validation_error_json(request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(request, 422, bounded_errors(exc))
