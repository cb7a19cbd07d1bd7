"""The town hall's business calendar: office hours, weekends, national holidays, 年末年始.

Pure Python (no Slack, no database). Every datetime going in must be timezone-aware and is
converted to the calendar's zone (Asia/Tokyo); every datetime coming out is aware in that zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import holidays

__all__ = ["TOKYO", "BusinessCalendar", "calendar_from_org"]

from models.base.clock import TOKYO

DEFAULT_CLOSING_DAYS: tuple[tuple[int, int], ...] = (
    (12, 29),
    (12, 30),
    (12, 31),
    (1, 1),
    (1, 2),
    (1, 3),
)

# A bound on day-by-day searches, so a misconfigured calendar that closes every day fails loudly
# instead of looping forever.
_MAX_SEARCH_DAYS = 800


@cache
def _national_holidays(year: int) -> frozenset[date]:
    # Cached per year as an immutable set: the holidays object fills years in lazily (mutation),
    # which we keep away from a frozen dataclass shared between threads.
    # Covers 振替休日 and 国民の休日; years outside the library's range (1949–2099) are empty.
    return frozenset(holidays.country_holidays("JP", years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    """Office hours and closed days of the town hall."""

    opens: dt.time = time(8, 30)
    closes: dt.time = time(17, 15)
    closing_days: tuple[tuple[int, int], ...] = DEFAULT_CLOSING_DAYS  # 年末年始 (month, day)
    extra_closed: frozenset[date] = frozenset()  # extra closed days from the town's org file
    tz: zoneinfo.ZoneInfo = TOKYO

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")

    # -- conversions --------------------------------------------------------------------------

    def _local(self, at: datetime) -> datetime:
        if not isinstance(at, datetime):
            raise TypeError(f"expected a datetime, got {type(at).__name__}")
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at!r}: pass a timezone-aware datetime")
        return at.astimezone(self.tz)

    def _at(self, d: date, t: dt.time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.tz)

    # -- days ---------------------------------------------------------------------------------

    def is_business_day(self, d: date) -> bool:
        """Not a weekend, national holiday, 年末年始 closing day or extra closed day."""
        if isinstance(d, datetime):
            d = self._local(d).date()
        return not (
            d.weekday() >= 5
            or d in _national_holidays(d.year)
            or (d.month, d.day) in self.closing_days
            or d in self.extra_closed
        )

    def _step(self, d: date, step: int) -> date:
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=step)
            if self.is_business_day(d):
                return d
        raise ValueError(f"no business day within {_MAX_SEARCH_DAYS} days of {d}")

    def next_business_day(self, d: date) -> date:
        """First business day strictly after `d`."""
        return self._step(d, 1)

    def previous_business_day(self, d: date) -> date:
        """Last business day strictly before `d`."""
        return self._step(d, -1)

    # -- moments ------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Business day and opens <= local time < closes."""
        local = self._local(at)
        return self.is_business_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself (in local time) if open, else the next moment the office opens."""
        local = self._local(at)
        if self.is_open(local):
            return local
        if self.is_business_day(local.date()) and local.time() < self.opens:
            return self._at(local.date(), self.opens)
        return self._at(self.next_business_day(local.date()), self.opens)

    def deliver_at(self, due: datetime, *, urgent: bool = False) -> datetime:
        """When a reminder due at `due` goes out: at once if urgent or open, else at opening."""
        return self._local(due) if urgent else self.next_opening(due)

    def add_business_days(self, at: datetime, n: int) -> datetime:
        """Same local time of day `n` business days later, counted from the next opening."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        start = self.next_opening(at)
        d = start.date()
        for _ in range(n):
            d = self.next_business_day(d)
        return self._at(d, start.time())

    def add_business_hours(self, at: datetime, hours: float | timedelta) -> datetime:
        """Add office-hours time, spilling over closed hours and days.

        The result is always an open moment: work that ends exactly at closing time is reported
        as the next opening (the same point in business time), so it can be delivered as is.
        """
        remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        if remaining < timedelta(0):
            raise ValueError(f"hours must be >= 0, got {hours}")
        cur = self.next_opening(at)
        while True:
            left_today = self._at(cur.date(), self.closes) - cur
            if remaining < left_today:
                return cur + remaining
            remaining -= left_today
            cur = self._at(self.next_business_day(cur.date()), self.opens)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Whole business days elapsed: the largest n with add_business_days(start, n) <= end.

        0 when `end` is not after `start` (e.g. clock skew) rather than a negative count.
        """
        end = self._local(end)
        begin = self.next_opening(start)
        t = begin.time()
        n, d = 0, begin.date()
        while True:
            d = self.next_business_day(d)
            if self._at(d, t) > end:
                return n
            n += 1

    # -- monthly rules ------------------------------------------------------------------------

    def nth_weekday_of_month(self, year: int, month: int, weekday: int, n: int) -> date:
        """The `n`th `weekday` (Mon=0) of the month; negative `n` counts back (-1 = last)."""
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Mon) .. 6 (Sun), got {weekday}")
        if n == 0:
            raise ValueError("n must be non-zero (1 = first, -1 = last)")
        first = date(year, month, 1)
        days = [first + timedelta(days=i) for i in range(31)]
        matches = [d for d in days if d.month == month and d.weekday() == weekday]
        if not -len(matches) <= n <= len(matches):
            raise ValueError(f"{year}-{month:02d} has no weekday {weekday} number {n}")
        return matches[n - 1 if n > 0 else n]

    def monthly_meeting_day(self, year: int, month: int, weekday: int, n: int) -> date:
        """The nth weekday, moved if the office is closed that day.

        Moved to the next business day if that is still in the same month (a meeting keeps its
        month, e.g. the monthly 支援会議), otherwise to the previous business day.
        """
        d = self.nth_weekday_of_month(year, month, weekday, n)
        if self.is_business_day(d):
            return d
        later = self.next_business_day(d)
        return later if later.month == month else self.previous_business_day(d)

    def first_business_day_of_month(self, year: int, month: int) -> date:
        """First business day on or after the 1st of the month."""
        first = date(year, month, 1)
        return first if self.is_business_day(first) else self.next_business_day(first)


# -- org file ---------------------------------------------------------------------------------


def _bad(key: str, en: str, ja: str, value: Any) -> ValueError:
    return ValueError(f"[town] {key}: {en} / {ja} (got {value!r})")


def _parse_time(key: str, value: Any) -> dt.time:
    # TOML gives either a string "08:30" or a local time 08:30:00.
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise _bad(key, "expected 'HH:MM'", "'HH:MM' 形式で指定してください", value)


def _parse_month_day(key: str, value: Any) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in value.split("-"))
        date(2000, month, day)  # a leap year, so 02-29 is accepted
    except (AttributeError, ValueError):
        raise _bad(key, "expected 'MM-DD'", "'MM-DD' 形式で指定してください", value) from None
    return month, day


def _month_day_span(first: tuple[int, int], last: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    # Walk a leap year's (month, day) list circularly so "12-29".."01-03" wraps the new year.
    year = [date(2000, 1, 1) + timedelta(days=i) for i in range(366)]
    md = [(d.month, d.day) for d in year]
    i, j = md.index(first), md.index(last)
    return tuple(md[i : j + 1] if i <= j else md[i:] + md[: j + 1])


def _parse_closed_days(value: Any) -> frozenset[date]:
    key = "closed_days"
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise _bad(key, "expected a list of dates", "日付のリストで指定してください", value)
    days = set()
    for item in value:
        # TOML dates arrive as datetime.date; a datetime (also a date) would be a typo.
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(item))
        except (TypeError, ValueError):
            raise _bad(
                key,
                "expected dates like 2026-08-14",
                "2026-08-14 のような日付で指定してください",
                item,
            ) from None
    return frozenset(days)


def calendar_from_org(town: Mapping[str, Any] | None) -> BusinessCalendar:
    """Build a BusinessCalendar from the org file's optional [town] section.

    Unknown keys are ignored (the section holds other town settings too).
    `year_end_closing = []` means no 年末年始 closing.
    """
    town = town or {}
    if not isinstance(town, Mapping):
        raise _bad("", "expected a table", "テーブルで指定してください", town)
    kwargs: dict[str, Any] = {}

    if "timezone" in town:
        name = town["timezone"]
        try:
            kwargs["tz"] = zoneinfo.ZoneInfo(name)
        except (TypeError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise _bad(
                "timezone",
                "unknown time zone, e.g. 'Asia/Tokyo'",
                "不明なタイムゾーンです(例: 'Asia/Tokyo')",
                name,
            ) from None

    if "office_hours" in town:
        hours = town["office_hours"]
        if not isinstance(hours, list | tuple) or len(hours) != 2:
            raise _bad(
                "office_hours",
                "expected [opening, closing] like ['08:30', '17:15']",
                "['08:30', '17:15'] のように開庁・閉庁時刻を指定してください",
                hours,
            )
        opens, closes = (_parse_time("office_hours", h) for h in hours)
        if not opens < closes:
            raise _bad(
                "office_hours",
                "opening must be before closing",
                "開庁時刻は閉庁時刻より前にしてください",
                hours,
            )
        kwargs["opens"], kwargs["closes"] = opens, closes

    if "closed_days" in town:
        kwargs["extra_closed"] = _parse_closed_days(town["closed_days"])

    if "year_end_closing" in town:
        span = town["year_end_closing"]
        if isinstance(span, list | tuple) and len(span) == 0:
            kwargs["closing_days"] = ()
        elif isinstance(span, list | tuple) and len(span) == 2:
            first, last = (_parse_month_day("year_end_closing", s) for s in span)
            days = _month_day_span(first, last)
            if len(days) > 31:
                raise _bad(
                    "year_end_closing",
                    "closing span is longer than a month; expected e.g. ['12-29', '01-03']",
                    "閉庁期間が1か月を超えています(例: ['12-29', '01-03'])",
                    span,
                )
            kwargs["closing_days"] = days
        else:
            raise _bad(
                "year_end_closing",
                "expected [first, last] like ['12-29', '01-03']",
                "['12-29', '01-03'] のように最初と最後の日を指定してください",
                span,
            )

    return BusinessCalendar(**kwargs)
