"""The reminder API for features: schedule, move, cancel, snooze — with the business calendar.

    from reminders.schedule import cancel_reminders, move_reminders, schedule_reminder
    from models.reminders import Recipient, Subject, SubjectKind

    meeting = Subject(SubjectKind.meeting, meeting.id)
    schedule_reminder(session, key=f"meeting:{meeting.id}:v{version}:eve", subject=meeting,
                      rule="meeting_eve", recipient=Recipient.channel("C…"), due_at=…, at=now)
    move_reminders(session, subject=meeting, by=timedelta(days=7), at=now)   # meeting moved
    cancel_reminders(session, subject=meeting, at=now)                       # meeting cancelled

Call them inside the transaction of the change itself: the reminder then exists exactly when
the change does. A reminder due outside office hours goes out at the next opening unless urgent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from models.queues import reminders as store
from models.queues.reminders import Planned
from models.queues.tables import Recipient, Reminder, Subject
from reminders.calendar import BusinessCalendar
from reminders.deadlines import calendar_for
from reminders.rules import SNOOZE_TOMORROW, SNOOZE_WEEK, rule_for

SNOOZE_CHOICES = (SNOOZE_TOMORROW, SNOOZE_WEEK)


def planned(
    *,
    key: str,
    subject: Subject,
    rule: str,
    recipient: Recipient,
    due_at: datetime,
    calendar: BusinessCalendar,
    urgent: bool = False,
    payload: dict | None = None,
    created_by_id: int | None = None,
) -> Planned:
    """A reminder to schedule (ids only in `key`): delivered at due_at, or at the next opening
    of the town hall if it is closed then and the reminder is not urgent."""
    if rule_for(rule) is None:
        raise ValueError(
            f"unknown reminder rule {rule!r}: register it in its module under reminders/ and"
            " list that module in bot/scheduler.py (REMINDER_MODULES)"
        )
    return Planned(
        key=key,
        subject=subject,
        rule=rule,
        recipient=recipient,
        due_at=due_at,
        deliver_at=calendar.deliver_at(due_at, urgent=urgent),
        urgent=urgent,
        payload=payload,
        created_by_id=created_by_id,
    )


def schedule_reminder(
    session: Session, *, at: datetime, calendar: BusinessCalendar | None = None, **fields
) -> Reminder:
    """Schedule once per `key` (the fields of planned()); the existing reminder if it was."""
    cal = calendar or calendar_for(session)
    return store.schedule_planned(session, planned(calendar=cal, **fields), at=at)


def schedule_reminders(session: Session, reminders: Sequence[Planned], *, at: datetime) -> None:
    """Schedule several planned() reminders in one statement, each once per key."""
    store.schedule_all(session, reminders, at=at)


def move_reminders(
    session: Session,
    *,
    subject: Subject,
    at: datetime,
    by: timedelta | None = None,
    to: datetime | None = None,
    rule: str | None = None,
) -> list[Reminder]:
    """Shift the pending reminders of a subject `by` a duration (or set them `to` a time)."""
    cal = calendar_for(session)
    return store.move(
        session, subject=subject, at=at, deliver=cal.deliver_at, by=by, to=to, rule=rule
    )


def cancel_reminders(
    session: Session, *, subject: Subject, at: datetime, reason: str = "cancelled", rule=None
) -> int:
    """Cancel every reminder of a subject that is not sent yet. Returns how many."""
    return store.cancel(session, subject=subject, at=at, reason=reason, rule=rule)


def snooze_due(calendar: BusinessCalendar, choice: str, *, now: datetime) -> datetime:
    """明日また: the next business day's opening. 1週間後: a week on (moved into office hours)."""
    local = now.astimezone(calendar.tz)
    if choice == SNOOZE_TOMORROW:
        return datetime.combine(
            calendar.next_business_day(local.date()), calendar.opens, tzinfo=calendar.tz
        )
    if choice == SNOOZE_WEEK:
        return calendar.next_opening(local + timedelta(days=7))
    raise ValueError(f"unknown snooze choice {choice!r}")


def snooze_reminder(
    session: Session, *, reminder: Reminder, choice: str, by_member_id: int, at: datetime
) -> Reminder:
    """Remind again later; returns the follow-up reminder (one per message)."""
    cal = calendar_for(session)
    due = snooze_due(cal, choice, now=at)
    return store.snooze(
        session,
        reminder=reminder,
        due_at=due,
        deliver_at=cal.deliver_at(due, urgent=reminder.urgent),
        by_member_id=by_member_id,
        at=at,
    )
