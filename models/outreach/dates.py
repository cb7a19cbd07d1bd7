"""When outreach happens: business days, the next contact date, the org file's [outreach]."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlmodel import Session

from models.base.clock import TOKYO
from models.org.roster import setting
from models.outreach.tables import (
    DEFAULT_ESCALATE_AFTER,
    MAX_AHEAD,
)

IsBusinessDay = Callable[[date], bool]  # the calendar's rule, passed in (no calendar here)


def today(at: datetime) -> date:
    """The town's date at `at` (JST): what "today" means on every form."""
    return at.astimezone(TOKYO).date()


def on_business_day(day: date, is_business_day: IsBusinessDay) -> date:
    """`day` itself if the office is open then, else the next business day."""
    for _ in range(800):
        if is_business_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError("no business day ahead")


def propose_next(last: date, cadence_days: int, is_business_day: IsBusinessDay) -> date:
    """The cadence from the last contact, moved onto a business day (weekend, 祝日, 年末年始)."""
    return on_business_day(last + timedelta(days=cadence_days), is_business_day)


def check_date(value: date | None, field_name: str, *, at: datetime, errors: dict) -> None:
    if value is None:
        errors[field_name] = "outreach.error.date_required"
    elif value < today(at):
        errors[field_name] = "outreach.error.date_in_the_past"
    elif value > today(at) + MAX_AHEAD:
        errors[field_name] = "outreach.error.date_too_far"


def settings_problems(section: object) -> list[tuple[str, str]]:
    """(key, problem code) for each bad value of the org file's [outreach] section."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return [("", "outreach_not_table")]
    problems = []
    for key, value in section.items():
        if key == "escalate_after_days":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 30:
                problems.append((key, "outreach_escalate_invalid"))
        else:
            problems.append((key, "outreach_key_unknown"))
    return problems


def escalate_after_days(session: Session) -> int:
    """Business days after a missed contact date before the coordinator is told (default 3)."""
    section = setting(session, "outreach", {}) or {}
    value = section.get("escalate_after_days") if isinstance(section, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 30:
        return value
    return DEFAULT_ESCALATE_AFTER
