"""PostgreSQL databases for tests: copied from a template once, then reset and reused.

Why not a fresh `CREATE DATABASE … TEMPLATE` per test and a DROP after it: on this PostgreSQL (15)
every DROP DATABASE forces a cluster-wide checkpoint, and each copy dirties the template's ~9 MB, so
a drop costs 0.05 s on a quiet machine and over a second when other people's suites write too (their
checkpoints are ours). Resetting a used database to its template's content — delete every row, put
the template's rows back with COPY, set the sequences back — takes 20-40 ms and no checkpoint. A
database is copied only when none is free (one per template per worker, normally).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql


@dataclass
class Snapshot:
    """What a template holds: every table's rows (COPY text) and every sequence's position."""

    tables: list[str]
    rows: dict[str, bytes]
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)


def take_snapshot(url: str) -> Snapshot:
    with psycopg.connect(url) as conn:
        tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        rows = {}
        for table in tables:
            with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))) as copy:
                data = b"".join(bytes(chunk) for chunk in copy)
            if data:
                rows[table] = data
        sequences = [(name, value if value is not None else start, value is not None) for name, value, start in
                     conn.execute("SELECT sequencename, last_value, start_value FROM pg_sequences "
                                  "WHERE schemaname = 'public'")]
    return Snapshot(tables, rows, sequences)


def reset(url: str, snapshot: Snapshot) -> None:
    """Bring the database at `url` back to the snapshot's content, whatever the test left."""
    with psycopg.connect(url, autocommit=True) as conn:
        # Whatever the test left connected (a thread, a client) goes; its locks with it.
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        with conn.transaction():
            # Replica mode skips foreign-key checks and triggers: rows go in any order.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("SET LOCAL lock_timeout = '20s'")  # a hung leftover fails the teardown, not the run
            for table in snapshot.tables:  # DELETE, not TRUNCATE: the tables are small, and TRUNCATE
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))  # makes new files (5-10× slower)
            for table, data in snapshot.rows.items():
                with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
                    copy.write(data)
            for name, value, called in snapshot.sequences:
                conn.execute("SELECT setval(%s, %s, %s)", (sql.Identifier(name).as_string(conn), value, called))
