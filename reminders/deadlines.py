"""When a memo must be acknowledged by: a business-time rule per urgency (configurable)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from models.concerns import Urgency
from models.org import setting
from reminders.calendar import BusinessCalendar, calendar_from_org

# 緊急 within 1 office hour, 3日以内 within 1 business day, 通常 within 2 business days.
DEFAULT_ACK_DEADLINES = {
    Urgency.urgent: ("hours", 1),
    Urgency.three_days: ("days", 1),
    Urgency.normal: ("days", 2),
}


def calendar_for(session: Session) -> BusinessCalendar:
    """The town's business calendar, from the loaded org file (defaults otherwise)."""
    town = dict(setting(session, "town", {}) or {})
    closed = setting(session, "closed_days", []) or []
    if closed:
        town["closed_days"] = closed
    return calendar_from_org(town)


def ack_deadline(
    calendar: BusinessCalendar,
    *,
    received_at: datetime,
    urgency: str,
    rules: dict | None = None,
) -> datetime:
    unit, amount = (rules or DEFAULT_ACK_DEADLINES)[Urgency(urgency)]
    if unit == "hours":
        return calendar.add_business_hours(received_at, timedelta(hours=amount))
    return calendar.add_business_days(received_at, amount)
