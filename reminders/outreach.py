"""Outreach reminders: the next contact date to the assigned workers, a missed one to the
coordinator.

For an active target, in the transaction that sets its next contact date (created, a contact
logged, resumed), `schedule_for` leaves exactly these open reminders:
  1. outreach_contact — to each assigned agency (its channel, else its members), at the office's
     opening on the contact date (on the business day before, when the office is closed then);
  2. outreach_overdue — to the coordinator, `escalate_after_days` business days (org file
     [outreach], default 3) after the contact date, if no contact has been logged by then.
A reminder never falls due before it is scheduled: a contact date of today, set after the
opening, is reminded at once (dated 08:30 it would go out marked 遅延, as if the bot had been
down). Both carry the target's version: when the date moves (a contact, pause, resume, consent,
closing) the version changes, the old ones no longer apply, and `schedule_for` cancels them and
marks the ones already sent as handled (their messages are refreshed without buttons).
Ids only in keys and payloads — never the person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from models.cases.destinations import card_targets
from models.org.roster import coordinator_agency
from models.org.tables import Agency
from models.outreach.dates import escalate_after_days
from models.outreach.tables import OutreachTarget, TargetState
from models.outreach.targets import worker_agencies
from models.queues import outbox
from models.queues import reminders as store
from models.queues.tables import Recipient, Reminder, ReminderState, Subject, SubjectKind
from reminders.calendar import BusinessCalendar
from reminders.deadlines import calendar_for
from reminders.rules import SNOOZE_TOMORROW, Rule, register
from reminders.schedule import schedule_reminder

OUTREACH_CONTACT = "outreach_contact"
OUTREACH_OVERDUE = "outreach_overdue"
RULES = (OUTREACH_CONTACT, OUTREACH_OVERDUE)


def subject(target: OutreachTarget) -> Subject:
    return Subject(SubjectKind.outreach, target.id)


def target_of(session: Session, reminder: Reminder) -> OutreachTarget | None:
    if reminder.subject_kind != SubjectKind.outreach:
        return None
    try:
        return session.get(OutreachTarget, int(reminder.subject_id))
    except ValueError:
        return None


def still_due(session: Session, reminder: Reminder) -> bool:
    """The target is active and its next contact date is the one this reminder was made for."""
    target = target_of(session, reminder)
    return (
        target is not None
        and target.state == TargetState.active
        and reminder.payload.get("version") == target.version
    )


# The message carries its own 接触を記録する button (handlers/outreach/views.py); 明日また too.
register(Rule(OUTREACH_CONTACT, applies=still_due, actions=(SNOOZE_TOMORROW,)))
register(Rule(OUTREACH_OVERDUE, applies=still_due, actions=(SNOOZE_TOMORROW,)))


def contact_due_at(calendar: BusinessCalendar, day: date) -> datetime:
    """The opening of the contact date; of the business day before it when the office is closed
    that day (a Saturday visit is reminded on Friday morning)."""
    if not calendar.is_business_day(day):
        day = calendar.previous_business_day(day)
    return datetime.combine(day, calendar.opens, tzinfo=calendar.tz)


def not_before(due: datetime, at: datetime) -> datetime:
    """`due`, or `at` when that moment has already passed at scheduling time.

    The dispatcher and the delivery loop mark as 遅延 what goes out more than 10 minutes after
    its planned delivery; planned for a moment before it was even scheduled, a first reminder
    would say 遅延 without any outage."""
    return max(due, at)


def overdue_at(calendar: BusinessCalendar, day: date, business_days: int) -> datetime:
    """`business_days` business days after the contact date's opening (or the next opening)."""
    start = datetime.combine(day, calendar.opens, tzinfo=calendar.tz)
    return calendar.add_business_days(start, business_days)


def _handled(session: Session, target: OutreachTarget, *, by_member_id: int | None, at) -> int:
    """Close what is still open of the target's reminders; sent ones count as handled."""
    refreshed = 0
    for reminder in store.reminders_of(session, subject(target), states=[ReminderState.sent.value]):
        if reminder.rule in RULES and reminder.done_at is None and by_member_id is not None:
            reminder.done_at = at
            reminder.done_by_id = by_member_id
            reminder.version += 1
            reminder.updated_at = at
            session.add(reminder)
        if reminder.rule in RULES:
            refreshed += store.refresh_messages(session, reminder=reminder, at=at)
    store.cancel(session, subject=subject(target), at=at, reason="outreach_changed")
    return refreshed


OUTREACH_ASSIGNED = "outreach_assigned"  # the notice to each agency that will visit


def tell_assigned(session: Session, target: OutreachTarget, *, at: datetime) -> int:
    """At registration: every assigned agency is told at once — its channel, else its members
    by DM — through the outbox (the target's number, cadence, first contact date; no person)."""
    session.flush()
    queued = 0
    for agency_id in sorted(worker_agencies(session, target.id)):
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            continue
        for where in card_targets(session, agency):
            queued += outbox.enqueue(
                session,
                key=f"outreach:{target.id}:assigned:{agency_id}:{where}",
                kind=OUTREACH_ASSIGNED,
                target=where,
                payload={"target_id": target.id, "agency_id": agency_id},
                at=at,
            )
    return queued


def schedule_for(
    session: Session,
    target: OutreachTarget,
    *,
    at: datetime,
    by_member_id: int | None = None,
) -> list[Reminder]:
    """Call in the transaction of every change of a target (after it). Idempotent.

    `by_member_id`: the member whose contact answered the reminders already sent (they show
    「○○さんが対応しました」); None when nothing was done for them (pause, close …).
    """
    session.flush()
    _handled(session, target, by_member_id=by_member_id, at=at)
    if target.state != TargetState.active:
        return []
    cal = calendar_for(session)
    payload = {"version": target.version}
    base = f"outreach:{target.id}:v{target.version}"
    scheduled = [
        schedule_reminder(
            session,
            key=f"{base}:contact:{agency_id}",
            subject=subject(target),
            rule=OUTREACH_CONTACT,
            recipient=Recipient.agency(agency_id),
            due_at=not_before(contact_due_at(cal, target.next_contact_on), at),
            at=at,
            payload=payload,
            calendar=cal,
        )
        for agency_id in sorted(worker_agencies(session, target.id))
    ]
    coordinator = coordinator_agency(session)
    if coordinator is not None:
        scheduled.append(
            schedule_reminder(
                session,
                key=f"{base}:overdue",
                subject=subject(target),
                rule=OUTREACH_OVERDUE,
                recipient=Recipient.agency(coordinator.id),
                due_at=not_before(
                    overdue_at(cal, target.next_contact_on, escalate_after_days(session)), at
                ),
                at=at,
                payload=payload,
                calendar=cal,
            )
        )
    return scheduled
