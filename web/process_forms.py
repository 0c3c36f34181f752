"""What the process pages need to draw a kind's declared fields (registry.FormField) as a form:
the units a unit field offers, the choices of a choice field, and the errors of a domain refusal
placed beside the fields they name (every one at once; others above the form)."""
from fastapi import Request
from sqlmodel import Session

from domain.errors import DomainError
from domain.processes import forms
from domain.processes.registry import FormField
from web.auth import field_errors

UNIT_TYPES = ("unit", "unit_or_code", "unit_list")


def options(session: Session, fields: tuple[FormField, ...]) -> dict[str, object]:
    """field name → its choices: [UnitChoice] for unit fields, {code: name} for choice fields."""
    found: dict[str, object] = {}
    for f in fields:
        if f.type in UNIT_TYPES:
            found[f.name] = forms.unit_choices(session, f)
        elif f.type in ("choice", "choice_list"):
            choices = f.hints.get("choices") or {}
            found[f.name] = choices() if callable(choices) else choices
    return found


def values_of(fields: tuple[FormField, ...], form) -> dict[str, object]:
    """What was typed, as sent (lists for the fields that take several), to fill the form again."""
    return {f.name: form.getlist(f.name) if f.type in ("unit_list", "choice_list") else form.get(f.name, "")
            for f in fields}


def errors_of(request: Request, exc: DomainError, fields: tuple[FormField, ...]) -> dict[str, str]:
    """Each error beside its field; an error about something the form has no field for, above it."""
    names = {f.name for f in fields}
    placed: dict[str, str] = {}
    for field, message in field_errors(request, exc).items():
        key = field if field in names else "_form"
        placed[key] = f"{placed[key]}；{message}" if key in placed and key == "_form" else message
    return placed
