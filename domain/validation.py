"""What a form's fields must look like, checked in the domain for every face: a mainland phone
number, a resident ID number, a day or a moment written the way people in China write them — and
a collector, so that a form reports every field at fault at once (domain.errors.InvalidFields).

Error messages name the field and show an example; they never echo an ID number back.
"""
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from domain.errors import DomainError, InvalidInput, raise_all

T = TypeVar("T")


class Collector:
    """Run each field's check, keep its error and go on; `done()` raises them all together."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def check(self, check: Callable[..., T], *args, **kwargs) -> T | None:
        try:
            return check(*args, **kwargs)
        except InvalidInput as error:
            self.errors.extend(getattr(error, "errors", [error]))
            return None

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def fields(self) -> set[str | None]:
        return {e.field for e in self.errors}

    def done(self) -> None:
        raise_all(self.errors)


# ---- phone numbers ----

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area code (3 or 4 digits starting with 0) and a 7- or 8-digit number; an extension after 转 or #.
_LANDLINE = re.compile(r"^0\d{2,3}[2-9]\d{6,7}$")


def phone(raw: object, *, field: str = "phone", label: str = "联系电话") -> str:
    """A mainland mobile (13912345678, +86 139 1234 5678) or a landline with its area code
    (0716-8123456), returned as digits (a landline keeps its hyphen after the area code)."""
    text = raw.strip() if isinstance(raw, str) else ""
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.match(digits):
        return digits
    if _LANDLINE.match(digits):
        area = 3 if digits[1] in "12" else 4  # 010, 02x are 3 digits; the others 4 (0716)
        return f"{digits[:area]}-{digits[area:]}"
    raise InvalidInput(f"bad_{field}", f"{label}须为11位手机号（如13912345678）或带区号的固话（如0716-8123456）",
                       "a phone is an 11-digit mobile (e.g. 13912345678) or a landline with its area code "
                       "(e.g. 0716-8123456)", field=field)


# ---- resident ID numbers (GB 11643) ----

_ID = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(raw: object, *, field: str = "id_number") -> str:
    """An 18-character resident ID number with a valid check digit and a real birth date."""
    value = raw.strip().upper() if isinstance(raw, str) else ""
    ok = bool(_ID.match(value)) and "10X98765432"[sum(int(c) * w for c, w in zip(value, _ID_WEIGHTS)) % 11] == value[-1]
    if ok:
        try:
            ok = date(1900, 1, 1) <= date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            ok = False
    if not ok:
        raise InvalidInput("bad_id_number", "身份证号码须为18位，出生日期有效，且校验码正确",
                           "the ID number must be 18 characters with a valid birth date and check digit", field=field)
    return value


def mask_id(value: str) -> str:
    return f"{value[:6]}****{value[-4:]}"


# ---- days and moments, as written in China ----

_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MOMENT = re.compile(r"^(.+?)(?:[T\s]+|(?<=日))(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})\s*秒?|\s*分)?$")


def day(raw: object, *, field: str, label: str) -> date | None:
    """2026-12-01, 2026/12/1, 2026.12.01 or 2026年12月1日; empty is None."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    match = _DAY.match(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise InvalidInput(f"bad_{field}", f"{label}须为有效日期，如 2026年12月1日 或 2026-12-01",
                           "a date looks like 2026-12-01", field=field) from None


def moment(raw: object, *, field: str, label: str) -> datetime | None:
    """A wall-clock time in Beijing: 2026-12-01 14:05, 2026-12-01T14:05 or 2026年12月1日 14:05
    (naive: the domain reads it as Beijing time); empty is None."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    match = _MOMENT.match(text)
    try:
        if match is None:
            raise ValueError(text)
        when = day(match.group(1), field=field, label=label)
        hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4) or 0)
        return datetime(when.year, when.month, when.day, hour, minute, second)
    except (ValueError, InvalidInput):
        raise InvalidInput(f"bad_{field}", f"{label}须为有效时间，如 2026年12月1日 14:05 或 2026-12-01 14:05",
                           "a time looks like 2026-12-01 14:05", field=field) from None
