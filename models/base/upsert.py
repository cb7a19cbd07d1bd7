"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

M = TypeVar("M", bound=SQLModel)


@cache
def _statement(dialect: str, table: Table):
    # Built once per table: constructing the statement anew for every row costs more than
    # running it (the compiled form is cached by SQLAlchemy either way).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: drivers disagree on rowcount for a skipped conflict.
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


@cache
def _bulk_statement(dialect: str, table: Table):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def insert_all_if_absent(session: Session, model: type[SQLModel], rows: list[dict]) -> None:
    """Insert several rows in one statement, skipping those whose unique key exists; nothing is
    read back (for rows the caller does not need as objects: notices, reminders)."""
    if rows:
        session.execute(_bulk_statement(session.get_bind().dialect.name, model.__table__), rows)


def insert_if_absent(session: Session, model: type[SQLModel], **values: object) -> bool:
    """Insert a row unless one with the same unique key exists; True if this call inserted it."""
    return inserted_id(session, model, **values) is not None


def inserted_id(session: Session, model: type[SQLModel], **values: object) -> object | None:
    """As insert_if_absent; the new row's primary key, or None if the row existed."""
    stmt = _statement(session.get_bind().dialect.name, model.__table__)
    row = session.execute(stmt, values).first()
    return None if row is None else row[0]


def as_loaded(session: Session, model: type[M], **values: object) -> M:
    """The object of a row this transaction has just inserted with exactly `values` (primary key
    included), as if read back, without reading it: one statement fewer on hot paths."""
    row = model(
        **{k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in values.items()}
    )
    make_transient_to_detached(row)
    session.add(row)
    return row
