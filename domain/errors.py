"""Domain errors: a code, a message in Chinese and English, and the field at fault.

The API maps them to HTTP status in one handler; the web front shows them next to the field.
"""


class DomainError(Exception):
    status = 400
    # Set by a machine's guard (domain.transitions) when the error refuses an attempted transition:
    # the unit of work audits it after rolling the attempt back.
    refusal = None

    def __init__(self, code: str, zh: str, en: str, *, field: str | None = None):
        self.code, self.zh, self.en, self.field = code, zh, en, field
        super().__init__(en)

    def message(self, language: str = "zh") -> str:
        return self.en if language.startswith("en") else self.zh


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class NotAuthenticated(DomainError):
    status = 401


class InvalidFields(InvalidInput):
    """Several fields at fault at once: a form shows every one beside its field, the API lists them
    all. The first error's code and field stand for the whole."""

    def __init__(self, errors: list[DomainError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.code, "；".join(e.zh for e in self.errors), "; ".join(e.en for e in self.errors),
                         field=first.field)


def raise_all(errors: list[DomainError]) -> None:
    """Raise nothing, the one error, or all of them together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidFields(errors)
