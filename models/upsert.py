"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_if_absent(session: Session, model: type[SQLModel], **values: object) -> bool:
    """Insert a row unless one with the same unique key exists; True if this call inserted it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    stmt = insert(table).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: drivers disagree on rowcount for a skipped conflict.
    return session.execute(stmt.returning(*table.primary_key.columns)).first() is not None
