"""Receipt numbers: 和暦 fiscal year (April–March) and a sequence per year, e.g. R8-0001."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlmodel import Field, Session, SQLModel

REIWA_OFFSET = 2018  # 2019 = 令和元年


class ReceiptCounter(SQLModel, table=True):
    fiscal_year: int = Field(primary_key=True)
    last: int = 0


def fiscal_year(day: date) -> int:
    """The fiscal year a day belongs to, by its starting calendar year (2027-03-31 -> 2026)."""
    return day.year if day.month >= 4 else day.year - 1


def format_number(fy: int, seq: int) -> str:
    return f"R{fy - REIWA_OFFSET}-{seq:04d}"


_TAKE_NEXT = text(
    "INSERT INTO receiptcounter (fiscal_year, last) VALUES (:fy, :count) "
    "ON CONFLICT (fiscal_year) DO UPDATE SET last = receiptcounter.last + excluded.last "
    "RETURNING last"
)


def next_number(session: Session, day: date) -> tuple[int, int, str]:
    """Take the next sequence of the fiscal year atomically (safe with concurrent writers)."""
    return next_numbers(session, day, 1)[0]


def next_numbers(session: Session, day: date, count: int) -> list[tuple[int, int, str]]:
    """Take the next `count` sequences of the fiscal year at once, in order."""
    fy = fiscal_year(day)
    # One upsert: the first number of a year creates its counter; the row lock serialises takers.
    last = session.execute(_TAKE_NEXT, {"fy": fy, "count": count}).scalar_one()
    return [(fy, seq, format_number(fy, seq)) for seq in range(last - count + 1, last + 1)]
