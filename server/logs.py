"""Logs as JSON lines, each with the request id of the request it belongs to, and never a victim's
phone or ID number (masked in every message, whatever logged it)."""
import contextvars
import logging
import re

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Mainland mobile numbers and 15/18-digit resident ID numbers, not inside longer digit runs
# (account numbers are 16–19 digits and are not personal data of the victim here).
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])|(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)")


def mask(message: str) -> str:
    message = _ID_NUMBER.sub(lambda m: f"{m.group(1) or m.group(3)}********{m.group(2) or m.group(4)}", message)
    return _PHONE.sub(r"\1****\2", message)


class RequestContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        masked = mask(record.getMessage())
        record.msg, record.args = masked, None
        return True


def configure(level: int = logging.INFO) -> None:
    """Every logger (uvicorn's included) writes JSON lines to stderr through the root handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    for noisy in ("httpx", "weasyprint", "fontTools", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
