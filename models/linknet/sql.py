"""Two SQL expressions the figures need, written once per database dialect.

- `month_index(ts)`: the Tatsuno calendar month of a stored UTC timestamp, as year*12 + month-1
  (the same numbering as periods.Month.index), so figures GROUP BY month in the database.
- `hours_between(a, b)`: b - a in hours (for the median acknowledgement time).

Japan has no daylight saving time, so Tatsuno time is UTC + 9 hours throughout.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class month_index(FunctionElement):
    type = Integer()
    inherit_cache = True
    name = "month_index"


@compiles(month_index, "sqlite")
def _month_index_sqlite(element, compiler, **kw):
    ts = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%Y', {ts}, '+9 hours') AS INTEGER) * 12"
        f" + CAST(strftime('%m', {ts}, '+9 hours') AS INTEGER) - 1)"
    )


@compiles(month_index, "postgresql")
def _month_index_postgresql(element, compiler, **kw):
    ts = compiler.process(element.clauses, **kw)
    local = f"({ts} AT TIME ZONE 'Asia/Tokyo')"
    return f"(CAST(EXTRACT(YEAR FROM {local}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {local}) AS INTEGER) - 1)"  # noqa: E501


class hours_between(FunctionElement):
    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({b}) - julianday({a})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_postgresql(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 3600.0)"


def month_of(column: ColumnElement) -> month_index:
    return month_index(column)
