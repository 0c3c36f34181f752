"""Reads a policy folder, validates every file, and reports errors by file, line and reason.

A folder is loaded whole or not at all: `PolicyStore.reload` keeps the running policy when the
new one is refused.
"""
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from policies.schema import POLICY_FILES, CirculationPolicy, DocumentsPolicy, CalendarPolicy, EscalationPolicy, IntakePolicy, OrdersPolicy, ProcessesPolicy, Strict


class PolicyError(Exception):
    """A policy file that cannot be used; says where and why."""

    def __init__(self, file: str, line: int | None, reason: str):
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class PolicySet:
    folder: str
    escalation: EscalationPolicy
    intake: IntakePolicy
    documents: DocumentsPolicy
    orders: OrdersPolicy
    calendar: CalendarPolicy
    processes: ProcessesPolicy
    circulation: CirculationPolicy
    file_hashes: dict[str, str]  # file stem -> sha256 of its bytes

    @property
    def version(self) -> str:
        """Content hash of the whole set; changes when any file changes."""
        joined = "".join(f"{name}={digest};" for name, digest in sorted(self.file_hashes.items()))
        return hashlib.sha256(joined.encode()).hexdigest()

    def file_version(self, stem: str) -> str:
        return self.file_hashes[stem]


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML silently keeps the last of two equal keys; a policy must not."""


def _compose_checked(text: str, filename: str) -> yaml.Node | None:
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(filename, mark.line + 1 if mark else None, f"not valid YAML: {reason}") from None
    _check_duplicate_keys(node, filename)
    return node


def _check_duplicate_keys(node: yaml.Node | None, filename: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                raise PolicyError(filename, key.start_mark.line + 1, f"key '{key.value}' appears twice")
            seen.add(key.value)
            _check_duplicate_keys(value, filename)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, filename)


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The line of the deepest node that `loc` (a pydantic error location) reaches."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            # Point at the key's line: that is where the reader looks for "tiers:".
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _describe(error: dict) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (not part of this policy's schema)"
    elif error["type"] == "missing":
        message = "required key is missing"
    return f"{loc}: {message}" if loc else message


def parse_policy_file(stem: str, text: str, filename: str) -> Strict:
    schema = POLICY_FILES[stem]
    node = _compose_checked(text, filename)
    data = yaml.load(text, Loader=yaml.SafeLoader)
    if not isinstance(data, dict):
        raise PolicyError(filename, 1, "the file must be a mapping of keys to values")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PolicyError(filename, _line_of(node, first["loc"]), _describe(first)) from None


def load_policy_dir(folder: Path | str) -> PolicySet:
    folder = Path(folder)
    if not folder.is_dir():
        raise PolicyError(str(folder), None, "policy folder does not exist")
    parsed: dict[str, Strict] = {}
    hashes: dict[str, str] = {}
    for stem in POLICY_FILES:
        path = folder / f"{stem}.yaml"
        if not path.is_file():
            raise PolicyError(str(path), None, "policy file is missing")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(str(path), None, f"not UTF-8 text: {exc.reason}") from None
        parsed[stem] = parse_policy_file(stem, text, str(path))
        hashes[stem] = hashlib.sha256(raw).hexdigest()
    return PolicySet(folder=str(folder), file_hashes=hashes, **parsed)


class PolicyStore:
    """Holds the running policy; a refused reload leaves it in place."""

    def __init__(self, folder: Path | str):
        self._lock = threading.Lock()
        self._current = load_policy_dir(folder)

    @property
    def current(self) -> PolicySet:
        return self._current

    def reload(self, folder: Path | str | None = None) -> PolicySet:
        candidate = load_policy_dir(folder or self._current.folder)  # raises, keeping the old one
        with self._lock:
            self._current = candidate
        return candidate
