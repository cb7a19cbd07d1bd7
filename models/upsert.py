"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


@cache
def _statement(dialect: str, table: Table):
    # Built once per table: constructing the statement anew for every row costs more than
    # running it (the compiled form is cached by SQLAlchemy either way).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: drivers disagree on rowcount for a skipped conflict.
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


def insert_if_absent(session: Session, model: type[SQLModel], **values: object) -> bool:
    """Insert a row unless one with the same unique key exists; True if this call inserted it."""
    stmt = _statement(session.get_bind().dialect.name, model.__table__)
    return session.execute(stmt, values).first() is not None
