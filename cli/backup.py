"""`lianban backup` and `lianban restore`: our database and our files in one archive.

The archive (.tar.gz) holds
    manifest.json            format, time, database dialect, schema revision, the audit head,
                             and the size and SHA-256 of every other member
    database/lianban.db      SQLite, copied with SQLite's online backup API (consistent while the
                             app runs), or
    database/lianban.pgdump  PostgreSQL, `pg_dump --format=custom` (one consistent snapshot)
    files/documents/...      the issued PDFs (every rendition)
    files/evidence/...       the evidence uploads

The database is copied first and the files after: files are only ever added (a document's PDF is
written before its row commits), so every file a row in the copy points to is in the archive.
Prefect's own database is not backed up: process state lives in ours, and flows catch up.

`restore` checks every checksum before it writes anything, refuses a target database that already
has tables (a fresh machine: fresh folder, empty database), restores, then verifies the audit
chain and that each document's current PDF has the hash its row says.
"""
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from domain.timeutil import utcnow
from pathlib import Path

import typer

FORMAT = "lianban-backup/1"
FOLDERS = ("documents", "evidence")  # under LIANBAN_HOME


class BackupError(Exception):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as pg_dump/pg_restore take it (postgresql://…)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools (same major version as the "
                          "server or newer), e.g. apt-get install postgresql-client")
    return found


def _dialect(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise BackupError(f"unsupported database URL: {url.split(':', 1)[0]}")


def _database_facts(url: str) -> dict:
    """Schema revision and audit head, recorded in the manifest (and compared after a restore)."""
    from sqlalchemy import text

    from domain.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            revisions = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
            head = conn.execute(text("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")).first()
            documents = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
    finally:
        engine.dispose()
    return {"schema_revisions": revisions, "audit_last_seq": head[0] if head else 0,
            "audit_last_hash": head[1] if head else None, "documents": documents}


def _sqlite_copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _dump_database(url: str, into: Path) -> Path:
    if _dialect(url) == "sqlite":
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"no database at {source}")
        target = into / "lianban.db"
        _sqlite_copy(source, target)  # the online backup API: a consistent copy while others write
        return target
    target = into / "lianban.pgdump"
    subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                    f"--file={target}", _libpq_url(url)], check=True, capture_output=True, text=True)
    return target


CHECKPOINTS_MEMBER = "audit/checkpoints.jsonl"


def _checkpoint_settings(home: Path):
    from domain.settings import get_settings

    return get_settings().model_copy(update={"home": home})


def _sign_checkpoint(database_url: str, home: Path) -> Path | None:
    """A signed checkpoint of the head (domain/audit/checkpoints.py); its file, or None. A broken
    chain is still backed up (it is evidence), without a new checkpoint."""
    from sqlmodel import Session

    from domain.audit import checkpoints
    from domain.db import make_engine

    settings = _checkpoint_settings(home)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            try:
                checkpoints.write(session=session, settings=settings)
            except RuntimeError as exc:
                typer.echo(f"warning: {exc}", err=True)
            return checkpoints.checkpoint_file(settings, session)
    finally:
        engine.dispose()


def make_backup(*, destination: Path, database_url: str, home: Path) -> tuple[Path, dict]:
    """Write one archive; return its path and manifest."""
    dialect = _dialect(database_url)
    facts = _database_facts(database_url)
    stamp = utcnow()
    if destination.is_dir() or not destination.name.endswith((".tar.gz", ".tgz")):  # a folder, made if missing
        destination.mkdir(parents=True, exist_ok=True)
        destination = destination / f"lianban-backup-{stamp:%Y%m%dT%H%M%SZ}.tar.gz"
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lianban-backup-") as scratch:
        anchor = _sign_checkpoint(database_url, home)  # the head, signed; the archive carries the file
        dump = _dump_database(database_url, Path(scratch))  # first the database, then the files
        members: list[tuple[str, Path]] = [(f"database/{dump.name}", dump)]
        if anchor is not None and anchor.is_file():
            members.append((CHECKPOINTS_MEMBER, anchor))
        for folder in FOLDERS:
            root = home / folder
            if root.is_dir():
                members += [(f"files/{folder}/{p.relative_to(root).as_posix()}", p)
                            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".upload-")]
        listed = [{"path": name, "size": path.stat().st_size, "sha256": _sha256(path)} for name, path in members]
        manifest = {"format": FORMAT, "created_at": stamp.isoformat(), "database": {
            "dialect": dialect, "member": f"database/{dump.name}", **facts}, "members": listed}
        partial = destination.with_name(destination.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), int(stamp.timestamp())
            archive.addfile(info, io.BytesIO(data))
            for name, path in members:  # a file changed since it was hashed fails the restore's check
                archive.add(path, arcname=name, recursive=False)
        os.replace(partial, destination)
    return destination, manifest


@dataclass
class RestoreReport:
    manifest: dict
    files: int
    audit_checked: int
    audit_ok: bool
    audit_problem: str | None
    documents_checked: int
    documents_missing: list[str]


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return not Path(name).is_absolute() and ".." not in parts and bool(parts)


def _database_is_empty(url: str) -> bool:
    from sqlalchemy import inspect

    from domain.db import make_engine

    if _dialect(url) == "sqlite":
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    engine = make_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore_backup(*, archive: Path, database_url: str, home: Path) -> RestoreReport:
    dialect = _dialect(database_url)
    with tempfile.TemporaryDirectory(prefix="lianban-restore-") as scratch:
        scratch = Path(scratch)
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if not (member.isfile() and _safe_member(member.name)):
                    raise BackupError(f"refused: archive member {member.name!r} is not a plain relative file")
            tar.extractall(scratch, filter="data")
        manifest = json.loads((scratch / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise BackupError(f"not a lianban backup (format {manifest.get('format')!r})")
        listed = {m["path"]: m for m in manifest["members"]}
        present = {p.relative_to(scratch).as_posix() for p in scratch.rglob("*") if p.is_file()} - {"manifest.json"}
        if present != set(listed):
            raise BackupError(f"archive and manifest disagree: missing {sorted(set(listed) - present)[:5]}, "
                              f"unlisted {sorted(present - set(listed))[:5]}")
        for name, entry in listed.items():
            path = scratch / name
            if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
                raise BackupError(f"checksum mismatch: {name} is not the file that was backed up; nothing restored")
        source = manifest["database"]
        if source["dialect"] != dialect:
            raise BackupError(f"the backup is of a {source['dialect']} database; the target is {dialect}")
        if not _database_is_empty(database_url):
            raise BackupError("the target database already has tables: restore into a fresh (empty) database")
        for folder in FOLDERS:
            if (home / folder).exists() and any((home / folder).iterdir()):
                raise BackupError(f"{home / folder} is not empty: restore into a fresh folder")

        dump = scratch / source["member"]
        if dialect == "sqlite":
            target = _sqlite_path(database_url)
            target.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(dump, target)
        else:
            result = subprocess.run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                                     f"--dbname={_libpq_url(database_url)}", str(dump)], capture_output=True, text=True)
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
        files = 0
        for name in listed:
            if name == CHECKPOINTS_MEMBER:
                _restore_checkpoints(scratch / name, database_url, home)
            elif name.startswith("files/"):
                target = home / name.removeprefix("files/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(scratch / name, target)
                files += 1
    return _check_restored(manifest, database_url, home, files)


def _restore_checkpoints(source: Path, database_url: str, home: Path) -> None:
    from sqlmodel import Session

    from domain.audit import checkpoints
    from domain.db import make_engine

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            target = checkpoints.checkpoint_file(_checkpoint_settings(home), session)
    finally:
        engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def _check_restored(manifest: dict, database_url: str, home: Path, files: int) -> RestoreReport:
    from sqlmodel import Session, select

    from domain.audit import checkpoints
    from domain.audit import service as audit
    from domain.db import make_engine
    from domain.documents.models import Document

    engine = make_engine(database_url)
    settings = _checkpoint_settings(home)
    try:
        with Session(engine) as session:
            # Against the signed checkpoints when this machine holds the key (copied by the operator;
            # the key is never in the archive), else the chain alone.
            keyed = checkpoints.load_key(settings, create=False) is not None
            chain = checkpoints.check(session=session, settings=settings) if keyed else audit.verify(session=session)
            missing = []
            documents = session.exec(select(Document.number, Document.version, Document.pdf_path, Document.sha256)).all()
            for number, version, pdf_path, digest in documents:
                path = home / pdf_path
                if not path.is_file() or _sha256(path) != digest:
                    missing.append(f"{number} v{version}")
    finally:
        engine.dispose()
    problem = None if chain.ok else f"entry {chain.broken_seq}: {chain.reason}"
    if chain.ok and chain.checked != manifest["database"]["audit_last_seq"]:
        problem = f"{chain.checked} audit entries restored, the backup had {manifest['database']['audit_last_seq']}"
    return RestoreReport(manifest=manifest, files=files, audit_checked=chain.checked, audit_ok=problem is None,
                         audit_problem=problem, documents_checked=len(documents), documents_missing=missing)


# ---- the commands (registered in cli/main.py) ----

def backup(destination: Path = typer.Argument(..., help="a folder (a dated archive is made in it) or a file name ending in .tar.gz"),
           database_url: str = typer.Option(None, help="default: the configured database (LIANBAN_DATABASE_URL)"),
           home: Path = typer.Option(None, help="default: LIANBAN_HOME, where documents/ and evidence/ live")) -> None:
    """Back up the database, the issued documents and the evidence into one archive with checksums."""
    from domain.settings import get_settings

    settings = get_settings()
    try:
        path, manifest = make_backup(destination=destination, database_url=database_url or settings.resolved_database_url,
                                     home=home or settings.home)
    except (BackupError, subprocess.CalledProcessError) as exc:
        typer.echo(f"backup failed: {getattr(exc, 'stderr', None) or exc}", err=True)
        raise typer.Exit(1) from None
    db = manifest["database"]
    files = sum(m["path"].startswith("files/") for m in manifest["members"])
    signed = any(m["path"] == CHECKPOINTS_MEMBER for m in manifest["members"])
    typer.echo(f"backup written: {path} ({path.stat().st_size:,} bytes; {db['dialect']} database, "
               f"{db['audit_last_seq']} audit entries, {db['documents']} documents, {files} files"
               f"{', signed audit checkpoints' if signed else ''})")


def restore(archive: Path = typer.Argument(..., exists=True, dir_okay=False, help="an archive made by `lianban backup`"),
            database_url: str = typer.Option(None, help="an empty database (default: the configured one)"),
            home: Path = typer.Option(None, help="a fresh folder (default: LIANBAN_HOME)")) -> None:
    """Restore a backup into an empty database and a fresh folder, then verify it."""
    from domain.settings import get_settings

    settings = get_settings()
    try:
        report = restore_backup(archive=archive, database_url=database_url or settings.resolved_database_url,
                                home=home or settings.home)
    except BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored backup of {report.manifest['created_at']}: {report.files} files, "
               f"{report.documents_checked} documents")
    typer.echo(f"audit chain: {'intact' if report.audit_ok else 'BROKEN ' + str(report.audit_problem)}, "
               f"{report.audit_checked} entries verified")
    if report.documents_missing:
        typer.echo(f"documents whose PDF is missing or differs: {', '.join(report.documents_missing[:20])}", err=True)
    if not report.audit_ok or report.documents_missing:
        raise typer.Exit(1)
    typer.echo("run `lianban migrate` if this code is newer than the backup's schema "
               f"({', '.join(report.manifest['database']['schema_revisions'])})")
