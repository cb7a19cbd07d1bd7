"""Months and periods of the Link-net figures. Nothing finer than a calendar month exists here.

A `Month` is a calendar month in Tatsuno (Asia/Tokyo). A `Period` is a run of whole months
(a month, a fiscal year to date, a fiscal year). Its bounds in UTC are computed here, so the
SQL compares stored UTC timestamps with month starts and needs no time-zone functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from models.base.clock import TOKYO
from models.base.errors import DomainError

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2200:
            raise DomainError("linknet.bad_month", value=f"{self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """`YYYY-MM` (e.g. 2026-10); anything else is refused with a message."""
        found = _MONTH.match(text or "")
        if not found:
            raise DomainError("linknet.bad_month", value=(text or "")[:20])
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, at: datetime) -> Month:
        local = at.astimezone(TOKYO)
        return cls(local.year, local.month)

    @property
    def index(self) -> int:
        """Months since year 0: consecutive months have consecutive indexes."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)

    def plus(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    @property
    def fiscal_year(self) -> int:
        """The fiscal year (April–March) by its starting calendar year: 2027-03 -> 2026."""
        return self.year if self.month >= 4 else self.year - 1

    @property
    def start(self) -> datetime:
        """The first moment of the month in Tatsuno, as UTC."""
        return datetime(self.year, self.month, 1, tzinfo=TOKYO).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first moment of the next month (exclusive bound), as UTC."""
        return self.plus(1).start

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def fiscal_year_start(fy: int) -> Month:
    return Month(fy, 4)


@dataclass(frozen=True, order=True)
class Period:
    """Whole months first..last (inclusive)."""

    first: Month
    last: Month

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise DomainError("linknet.bad_period")

    @classmethod
    def month(cls, month: Month) -> Period:
        return cls(month, month)

    @classmethod
    def fiscal_year_to_date(cls, month: Month) -> Period:
        return cls(fiscal_year_start(month.fiscal_year), month)

    @classmethod
    def fiscal_year(cls, fy: int) -> Period:
        return cls(fiscal_year_start(fy), Month(fy + 1, 3))

    @property
    def months(self) -> list[Month]:
        return [Month.from_index(i) for i in range(self.first.index, self.last.index + 1)]

    @property
    def length(self) -> int:
        return self.last.index - self.first.index + 1

    @property
    def start(self) -> datetime:
        return self.first.start

    @property
    def end(self) -> datetime:
        return self.last.end

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first.plus(-self.length), self.first.plus(-1))

    def year_before(self) -> Period:
        return Period(self.first.plus(-12), self.last.plus(-12))

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


def last_complete_month(now: datetime) -> Month:
    """The month before the current one: the latest month whose figures are final."""
    return Month.of(now).plus(-1)


def require_complete(period: Period, now: datetime) -> None:
    """Figures exist only for months that have ended (their counts no longer change)."""
    if period.last > last_complete_month(now):
        raise DomainError("linknet.month_not_over", month=str(period.last))
