"""Signed checkpoints of the audit chain, kept outside the database.

The chain alone is unkeyed: whoever can write the database can change an entry, re-hash every
later one and move the head. A checkpoint is (seq, hash, time) signed with HMAC-SHA256 under a key
that lives in a file (LIANBAN_AUDIT_KEY_FILE, default <home>/keys/audit-checkpoint.key, created
0600 on first use), appended to an append-only file per database; a rewritten entry at or before
a checkpoint no longer matches it. `lianban up` writes one every LIANBAN_AUDIT_CHECKPOINT_MINUTES,
`lianban audit checkpoint` on demand, `lianban backup` before each archive (which carries the file).
"""
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from domain.audit.models import AuditEvent, AuditHead
from domain.audit.service import ChainReport, verify
from domain.settings import Settings, get_settings
from domain.timeutil import utcnow


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    signed: bool


def key_file(settings: Settings) -> Path:
    return settings.audit_key_file or settings.home / "keys" / "audit-checkpoint.key"


def database_id(session: Session) -> str:
    """Which database a checkpoint file belongs to: a digest of its address (no password)."""
    url = session.get_bind().url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def checkpoint_file(settings: Settings, session: Session) -> Path:
    return settings.home / "audit" / f"checkpoints-{database_id(session)}.jsonl"


def load_key(settings: Settings, *, create: bool) -> bytes | None:
    path = key_file(settings)
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # O_EXCL: two processes starting together never write two different keys
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_key(settings, create=False)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


def _signature(key: bytes, seq: int, chain_hash: str, at: str) -> str:
    return hmac.new(key, f"lianban-audit-checkpoint\x00{seq}\x00{chain_hash}\x00{at}".encode(),
                    hashlib.sha256).hexdigest()


def read(settings: Settings, session: Session) -> list[Checkpoint]:
    path = checkpoint_file(settings, session)
    if not path.exists():
        return []
    key = load_key(settings, create=False)
    found = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            seq, chain_hash, at, mac = int(row["seq"]), str(row["hash"]), str(row["at"]), str(row["mac"])
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(0, "", "", signed=False))
            continue
        signed = key is not None and hmac.compare_digest(mac, _signature(key, seq, chain_hash, at))
        found.append(Checkpoint(seq, chain_hash, at, signed))
    return found


def check(*, session: Session, settings: Settings | None = None) -> ChainReport:
    """The chain against every signed checkpoint, then verified past the newest one."""
    settings = settings or get_settings()
    marks = read(settings, session)
    previous = 0
    for mark in marks:
        if not mark.signed:
            return ChainReport(0, mark.seq or None, "a checkpoint is not signed by this installation's key "
                                                    f"({checkpoint_file(settings, session).name} was altered)")
        entry_hash = session.exec(select(AuditEvent.hash).where(AuditEvent.seq == mark.seq)).first()
        if entry_hash is None:
            return ChainReport(0, mark.seq, f"entry {mark.seq}, signed in the checkpoint of {mark.at}, is missing")
        if entry_hash != mark.hash:
            return ChainReport(0, previous + 1, f"entries {previous + 1}–{mark.seq} were rewritten: entry {mark.seq} "
                                                f"differs from the checkpoint signed at {mark.at}")
        previous = mark.seq
    return verify(session=session)


def write(*, session: Session, settings: Settings | None = None) -> Checkpoint | None:
    """Sign the current head, if the chain verifies (never sign a broken chain) and moved since."""
    settings = settings or get_settings()
    head = session.get(AuditHead, 1)
    if head is None or head.last_seq == 0:
        return None
    marks = read(settings, session)
    if marks and marks[-1].signed and marks[-1].seq == head.last_seq:
        return marks[-1]
    report = check(session=session, settings=settings)
    if not report.ok:
        raise RuntimeError(f"audit chain broken at entry {report.broken_seq}: {report.reason}; no checkpoint written")
    key = load_key(settings, create=True)
    at = utcnow().isoformat(timespec="seconds")
    row = {"seq": head.last_seq, "hash": head.last_hash, "at": at,
           "mac": _signature(key, head.last_seq, head.last_hash, at)}
    path = checkpoint_file(settings, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # append-only by construction
    try:
        os.write(fd, (json.dumps(row) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Checkpoint(head.last_seq, head.last_hash, at, signed=True)
