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
