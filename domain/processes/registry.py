"""Process kinds as a registry: each kind (倒查, 停业整顿, 止付 …) is one module declaring one
`ProcessKind`, and everything else — its Prefect flow, its API routes and start schema, its policy
section in processes.yaml, the names of its stages and outcomes in the UI — is derived from here.

A kind's stages change only through its stage `Machine` (domain.transitions): the kind declares
which stage may follow which, and `Step.move_to` asks that guard, so an undeclared move is refused
(and audited as refused) instead of written. Every kind may close from any open stage.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.errors import NotFound
from domain.orders import kinds as order_kinds
from domain.processes.models import Process
from domain.transitions import SYSTEM, Machine, Move, _MACHINES

# The modules of the kinds this project ships; a kind elsewhere (a test's) calls `register` itself.
KIND_MODULES = ("domain.processes.reverse_audit", "domain.processes.suspension", "domain.processes.referral",
                "domain.processes.payments", "domain.processes.disciplinary", "domain.processes.dissuasion")
STAGE_AUDIT_ACTION = "process.stage"  # what the audit trail has always called a stage change


@dataclass(frozen=True)
class Stage:
    code: str
    zh: str
    en: str


CLOSED = Stage("closed", "已办结", "Closed")


@dataclass(frozen=True)
class Outcome:
    """How a process of this kind may end, or what its addressee may report (劝阻成功, 刑事拘留)."""
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class FormField:
    """One field of a start form or of an action on a running process.

    `type` is one of: unit (a unit id), unit_or_code, unit_list, case (a case id), text, text_list,
    amount (a string like "28万" or a number), bool, choice, choice_list, date, datetime. `hints`
    guide the forms (max_length, choices, description, multiline, unit_kinds); the kind's own
    function is what validates."""
    name: str
    type: str
    label_zh: str
    label_en: str
    required: bool = True
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessAction:
    """Something a person records on a running process of this kind (验收, 申诉, 续冻):
    POST /api/v1/processes/{process_id}/<slug>; `handler(session=, actor=, process_id=, **fields)`.

    `roles`, `stages` (none: every open stage) and `ready` (the process's data → may it be done
    now?) say when the pages offer it; the handler checks again and is what decides."""
    slug: str
    label_zh: str
    label_en: str
    handler: Callable[..., Process]
    fields: tuple[FormField, ...] = ()
    description: str = ""
    roles: tuple[str, ...] = ("office", "admin")
    stages: tuple[str, ...] = ()
    ready: Callable[[dict], bool] | None = None

    def offered(self, *, role: str, stage: str, data: dict) -> bool:
        return (role in self.roles and stage != CLOSED.code and (not self.stages or stage in self.stages)
                and (self.ready is None or self.ready(data)))


@dataclass(frozen=True)
class ProcessEntry:
    """Another way in: a record that may start a process of this kind (a fraud-involved account
    counted against its branch starts a 倒查 at the policy's count). `handler(session=, actor=,
    **fields)` returns the process it started, or None. `bulk`: the pages also take a CSV or Excel
    file with one record a row (headers: the fields' names or Chinese labels), so the handler must
    refuse a record before it writes anything (the audit trail allows no savepoint to undo it)."""
    slug: str
    label_zh: str
    label_en: str
    handler: Callable[..., Process | None]
    fields: tuple[FormField, ...]
    bulk: bool = False
    description: str = ""


@dataclass(frozen=True)
class Fact:
    """What a process page shows of its data: the data key, its label, how to show it (text,
    money_fen, datetime, list, or choice with `choices` naming the codes)."""
    key: str
    label_zh: str
    label_en: str
    shown_as: str = "text"
    choices: dict[str, str] = field(default_factory=dict)


def stage_move(action: str, source: str | tuple[str, ...], target: str, label_zh: str = "") -> Move:
    """A stage change made by the kind's flow (the only actor that moves a process's stage)."""
    return Move(action=action, source=(source,) if isinstance(source, str) else tuple(source), target=target,
                roles=(SYSTEM,), audit_action=STAGE_AUDIT_ACTION, label_zh=label_zh)


@dataclass
class ProcessKind:
    name: str                                   # the code stored in Process.kind: "stop_payment"
    label_zh: str                               # 紧急止付
    label_en: str
    stages: tuple[Stage, ...]                   # in order; the first is where a process starts
    moves: tuple[Move, ...]                     # which stage may follow which (stage_move)
    start: Callable[..., Process]               # start(session=, actor=, **start fields)
    advance: Callable[..., None]                # advance(step): does what is due, idempotently
    start_fields: tuple[FormField, ...]
    order_kinds: tuple[str, ...] = ()           # domain.orders.kinds it issues
    outcomes: tuple[Outcome, ...] = ()
    policy: type | None = None                  # the pydantic rules of its processes.yaml section
    actions: tuple[ProcessAction, ...] = ()
    description: str = ""                       # what the start route's documentation says
    start_roles: tuple[str, ...] = ("office", "admin")  # who the pages offer the start form
    entries: tuple[ProcessEntry, ...] = ()      # other records that may start one (ProcessEntry)
    facts: tuple[Fact, ...] = ()                # what its page shows of its data
    # prefill(session, values) → values: what the start form can fill in from what it was opened
    # with (a warning number → the warning's area and risk level)
    prefill: Callable[..., dict] | None = None
    summary_zh: str = ""                        # one sentence for the start page, in the office's words
    summary_en: str = ""
    slug: str = ""                              # URL part: POST /api/v1/processes/<slug>
    machine: Machine = field(init=False)

    def __post_init__(self) -> None:
        self.slug = self.slug or self.name.replace("_", "-")
        if CLOSED.code not in {s.code for s in self.stages}:
            self.stages = (*self.stages, CLOSED)
        codes = [s.code for s in self.stages]
        for move in self.moves:
            unknown = {*move.source, move.target} - set(codes)
            if unknown:
                raise ValueError(f"{self.name}: move {move.action!r} names undeclared stages {sorted(unknown)}")
        for kind in self.order_kinds:
            order_kinds.get(kind)  # raises for an order kind nobody declared
        open_stages = tuple(c for c in codes if c != CLOSED.code)
        close = stage_move("close", open_stages, CLOSED.code, label_zh="办结")
        self.machine = Machine(entity="process", model=Process, moves=(*self.moves, close), status_field="stage",
                               state_names_zh={s.code: s.zh for s in self.stages}, key=f"process.{self.name}")

    @property
    def first_stage(self) -> str:
        return self.stages[0].code

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def outcome(self, code: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.code == code), None)

    def action(self, slug: str) -> ProcessAction | None:
        return next((a for a in self.actions if a.slug == slug), None)

    def entry(self, slug: str) -> ProcessEntry | None:
        return next((e for e in self.entries if e.slug == slug), None)


_KINDS: dict[str, ProcessKind] = {}


def register(kind: ProcessKind) -> ProcessKind:
    """Add a kind (at its module's import). Its policy section joins processes.yaml's schema."""
    from policies.schema import register_process_section

    clash = next((k for k in _KINDS.values() if k.slug == kind.slug and k.name != kind.name), None)
    if clash is not None:
        raise ValueError(f"process kinds {clash.name} and {kind.name} share the slug {kind.slug!r}")
    _KINDS[kind.name] = kind
    if kind.policy is not None:
        register_process_section(kind.name, kind.policy)
    return kind


def unregister(name: str) -> None:
    """Remove a kind again (tests that register their own)."""
    from policies.schema import unregister_process_section

    kind = _KINDS.pop(name, None)
    if kind is not None:
        _MACHINES.pop(kind.machine.key, None)
        unregister_process_section(name)


def load_kinds() -> None:
    """Import every shipped kind module, so each registers itself."""
    for module in KIND_MODULES:
        importlib.import_module(module)


def kinds() -> list[ProcessKind]:
    load_kinds()
    return list(_KINDS.values())


def by_slug(slug: str) -> ProcessKind:
    kind = next((k for k in kinds() if k.slug == slug), None)
    if kind is None:
        raise NotFound("unknown_process_kind", f"流程类型“{slug}”不存在", f"unknown process kind {slug!r}")
    return kind


def get(name: str) -> ProcessKind:
    load_kinds()
    kind = _KINDS.get(name)
    if kind is None:
        raise NotFound("unknown_process_kind", f"流程类型“{name}”不存在", f"unknown process kind {name!r}")
    return kind


def outcome_names_zh() -> dict[str, str]:
    """Every outcome code in the office's words, across kinds (orders list the ones they accept)."""
    return {o.code: o.zh for k in kinds() for o in k.outcomes}


def stage_name_zh(kind: str, stage: str) -> str:
    found = _KINDS.get(kind)
    named = found.stage(stage) if found else None
    return named.zh if named else next((s.zh for k in kinds() for s in k.stages if s.code == stage), stage)
