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

from policies.schema import POLICY_FILES, schema_of, CasesPolicy, CirculationPolicy, DocumentsPolicy, CalendarPolicy, EscalationPolicy, IntakePolicy, OrdersPolicy, ProcessesPolicy, Strict


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
    cases: CasesPolicy
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


MAX_DEPTH = 50  # a policy nests a few levels; thousands would exhaust the parser's recursion


def _yaml_error_line(exc: yaml.YAMLError, text: str) -> int:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return mark.line + 1
    position = getattr(exc, "position", None)  # a ReaderError (e.g. a NUL byte) has only an offset
    return text.count("\n", 0, position) + 1 if position is not None else 1


def _check_tokens(text: str, filename: str) -> None:
    """Refuse, before composing, what only a hostile or broken file contains: anchors and aliases
    (an alias "bomb" multiplies a small file into billions of nodes) and absurd nesting."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
            raise PolicyError(filename, token.start_mark.line + 1,
                              "anchors and aliases (& and *) are not allowed in policy files: write the value out")
        if isinstance(token, (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
                              yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)):
            depth += 1
            if depth > MAX_DEPTH:
                raise PolicyError(filename, token.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(token, (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)):
            depth -= 1


def _compose_checked(text: str, filename: str) -> yaml.Node | None:
    try:
        _check_tokens(text, filename)
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(filename, _yaml_error_line(exc, text), f"not valid YAML: {reason}") from None
    _check_duplicate_keys(node, filename)
    return node


def _construct(node: yaml.Node | None, text: str, filename: str):
    """The file's data; a value its tag cannot make (`!!int abc`, `!!timestamp 2026-13-01`,
    `!!python/object`) is refused at its line."""
    try:
        return yaml.load(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        line = _yaml_error_line(exc, text) if isinstance(exc, yaml.YAMLError) else _first_unreadable_line(node)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(filename, line, f"a value cannot be read: {reason}") from None


def _first_unreadable_line(node: yaml.Node | None) -> int:
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop(0)
        if isinstance(current, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(current)
            except Exception:  # noqa: BLE001 - any failure: this is the node
                return current.start_mark.line + 1
        elif isinstance(current, yaml.SequenceNode):
            stack[:0] = current.value
        elif isinstance(current, yaml.MappingNode):
            stack[:0] = [part for pair in current.value for part in pair]
    return node.start_mark.line + 1 if node is not None else 1


def _check_duplicate_keys(node: yaml.Node | None, filename: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise PolicyError(filename, key.start_mark.line + 1, "a key must be a plain name, not a list or mapping")
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
    schema = schema_of(stem)
    node = _compose_checked(text, filename)
    data = _construct(node, text, filename)
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
            raise PolicyError(str(path), raw.count(b"\n", 0, exc.start) + 1, f"not UTF-8 text: {exc.reason}") from None
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
