"""When a memo must be acknowledged by: a business-time rule per urgency (configurable).

Defaults: 緊急 within 1 office hour, 3日以内 within 1 business day, 通常 within 2 business days.
The org file's [reminders] section changes them (see models.reminders.parse_settings).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from models.cases.concerns import Urgency
from models.org.roster import setting
from models.queues.reminder_settings import DEFAULT_ACK_DEADLINES, ReminderSettings, parse_settings
from reminders.calendar import BusinessCalendar, calendar_from_org

__all__ = [
    "DEFAULT_ACK_DEADLINES",
    "ack_deadline",
    "calendar_for",
    "reminder_settings",
]


def calendar_for(session: Session) -> BusinessCalendar:
    """The town's business calendar, from the loaded org file (defaults otherwise)."""
    town = dict(setting(session, "town", {}) or {})
    closed = setting(session, "closed_days", []) or []
    if closed:
        town["closed_days"] = closed
    return calendar_from_org(town)


def reminder_settings(session: Session) -> ReminderSettings:
    """The [reminders] section of the loaded org file (defaults for what it leaves out)."""
    return parse_settings(setting(session, "reminders", {}) or {})


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
