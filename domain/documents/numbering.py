"""Document numbers (发文字号): 荆反诈联办〔2026〕12号, gap-free and duplicate-free per code and year.

`allocate` runs in the caller's transaction, the one that also inserts the document: it creates
the (code, year) row if missing without racing (INSERT … ON CONFLICT DO NOTHING), then locks it
(SELECT … FOR UPDATE on PostgreSQL; SQLite write transactions are serial already, see
`domain.db`) and increments it. Concurrent issuers of the same code and year queue on that row
until the first commits; a rollback undoes the increment, so no serial is ever skipped.
"""
import re

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from domain.documents.models import DocumentSequence

_NUMBER = re.compile(r"^(?P<code>[^〔〕\s]+)〔(?P<year>\d{4})〕(?P<serial>[1-9]\d*)号$")


def format_number(issuing_code: str, year: int, serial: int) -> str:
    """GB/T 9704: code, full year in 〔〕, serial without leading zeros and without 第, then 号."""
    if serial < 1:
        raise ValueError("serials start at 1")
    return f"{issuing_code}〔{year}〕{serial}号"


def parse_number(number: str) -> tuple[str, int, int] | None:
    match = _NUMBER.match(number.strip())
    if match is None:
        return None
    return match["code"], int(match["year"]), int(match["serial"])


def _insert_if_missing(session: Session, issuing_code: str, year: int) -> None:
    dialect = session.get_bind().dialect.name
    values = {"issuing_code": issuing_code, "year": year, "last_serial": 0}
    table = DocumentSequence.__table__
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"document numbering does not support {dialect}")
    session.execute(statement)


def lock(*, session: Session, issuing_code: str, year: int) -> DocumentSequence:
    """The (code, year) sequence row, created if missing and locked until the transaction ends."""
    query = (select(DocumentSequence)
             .where(DocumentSequence.issuing_code == issuing_code, DocumentSequence.year == year)
             .with_for_update()
             .execution_options(populate_existing=True))  # the locked row's value, not a cached one
    row = session.exec(query).first()
    if row is None:
        _insert_if_missing(session, issuing_code, year)
        row = session.exec(query).one()
    return row


def take(*, session: Session, sequence: DocumentSequence) -> int:
    """Hand out the next serial of a locked sequence row."""
    sequence.last_serial += 1
    session.add(sequence)
    session.flush()
    return sequence.last_serial


def allocate(*, session: Session, issuing_code: str, year: int) -> int:
    """The next serial for (code, year), held by the caller's transaction until it ends."""
    return take(session=session, sequence=lock(session=session, issuing_code=issuing_code, year=year))
