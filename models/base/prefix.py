"""`column starts with prefix` as a range of byte-ordered values, which an index serves.

SQLAlchemy's `startswith` is `LIKE :p || '%'`: SQLite then reads every row of the table (the
outbox grows by several notices per memo, and each case step looked its cards up this way).
A range `prefix <= value < next(prefix)` is the same test in byte order and uses the index: on
SQLite as it is (its default collation compares bytes); on PostgreSQL with `COLLATE "C"`,
because a database's own collation (ja_JP, en_US) may order punctuation differently, and an index
on `(key COLLATE "C")` serves it (migration 0005).
"""

from __future__ import annotations

from sqlalchemy import String, and_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class bytewise(FunctionElement):
    """The column compared byte by byte: `COLLATE "C"` on PostgreSQL, as it is elsewhere."""

    type = String()
    inherit_cache = True


@compiles(bytewise)
def _as_is(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(bytewise, "postgresql")
def _c_collation(element, compiler, **kw):
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


def starts_with(column, prefix: str) -> ColumnElement[bool]:
    if not prefix:
        raise ValueError("an empty prefix matches everything")
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first string past every `prefix…`
    value = bytewise(column)
    return and_(value >= prefix, value < after)
