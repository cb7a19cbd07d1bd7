"""Meeting reminders and invitations, and the recurring Link-net meeting, on the reminder engine.

For every attendee of a meeting (a DM each):
  - meeting_eve  — the business day before the meeting, at opening time;
  - meeting_soon — `Meeting.remind_before` minutes before it starts (default 60; 0: none),
    moved into office hours by the calendar like every reminder.
A reminder whose time has already passed when the meeting is scheduled is not made (the
invitation has just told them). Both check at dispatch that the meeting still takes place and
the member is still invited. When the meeting moves, its pending reminders move with it (new
ones are made for those already sent); when it is cancelled, they are cancelled. When the
attendees change, new ones are invited and reminded, and the reminders of those taken off are
cancelled.

A recurring Link-net meeting (models.meetings.MeetingSeries) gets its next occurrences from the
periodic job below, each on the business calendar's `monthly_meeting_day` (e.g. the 2nd Tuesday,
moved to the next business day of the month when the office is closed).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.base.db import transaction
from models.meetings import schedule as meetings
from models.meetings.rules import attendees
from models.meetings.series import active_series, occurrence_of, series_start
from models.meetings.tables import Meeting, MeetingKind, MeetingSeries, MeetingState, is_attendee
from models.org.roster import members_with_role
from models.org.tables import Agency, Member, Role
from models.queues import outbox
from models.queues.reminders import cancel as cancel_subject
from models.queues.reminders import (
    ended_by,
    ended_detail,
    reminders_of,
    retire,
    retire_sent,
    sent_of,
)
from models.queues.tables import Recipient, ReminderState, Subject, SubjectKind
from reminders.calendar import BusinessCalendar
from reminders.deadlines import calendar_for
from reminders.jobs import JobContext, periodic
from reminders.rules import Rule, register
from reminders.schedule import cancel_reminders, move_reminders, schedule_reminder

log = logging.getLogger("tsunagi.reminders")

MEETING_EVE = "meeting_eve"
MEETING_SOON = "meeting_soon"
MEETING_RULES = (MEETING_EVE, MEETING_SOON)
# What ended a posted meeting reminder (models.queues.reminders.retire): reminders.toml's
# reminder.outcome.<event> says it.
MEETING_MOVED, MEETING_HELD, MEETING_CANCELLED = (
    "meeting_moved",
    "meeting_held",
    "meeting_cancelled",
)
SERIES_AHEAD = timedelta(days=62)  # occurrences of a series are made about two months ahead


def meeting_of(session: Session, reminder) -> Meeting | None:
    if reminder.subject_kind != SubjectKind.meeting:
        return None
    try:
        return session.get(Meeting, int(reminder.subject_id))
    except ValueError:
        return None


def meeting_ahead(session: Session, reminder) -> bool:
    """The meeting still takes place and the member is still invited (and active)."""
    meeting = meeting_of(session, reminder)
    if meeting is None or meeting.state != MeetingState.scheduled:
        return False
    member = session.get(Member, int(reminder.recipient)) if reminder.recipient.isdigit() else None
    return member is not None and member.active and is_attendee(session, meeting.id, member)


# No 対応しました / snooze: the message carries 次第を見る (handlers/meetings/message_views.py).
register(Rule(MEETING_EVE, applies=meeting_ahead, actions=()))
register(Rule(MEETING_SOON, applies=meeting_ahead, actions=()))


def reminder_times(cal: BusinessCalendar, meeting: Meeting) -> dict[str, datetime | None]:
    local = meeting.starts_at.astimezone(cal.tz)
    eve = datetime.combine(cal.previous_business_day(local.date()), cal.opens, tzinfo=cal.tz)
    soon = (
        meeting.starts_at - timedelta(minutes=meeting.remind_before)
        if meeting.remind_before
        else None
    )
    return {MEETING_EVE: eve, MEETING_SOON: soon}


def _subject(meeting: Meeting) -> Subject:
    return Subject(SubjectKind.meeting, meeting.id)


def _schedule_one(session, meeting, member_id: int, rule: str, due: datetime, at: datetime):
    return schedule_reminder(
        session,
        key=f"meeting:{meeting.id}:{rule}:{member_id}:v{meeting.version}",
        subject=_subject(meeting),
        rule=rule,
        recipient=Recipient.member(member_id),
        due_at=due,
        at=at,
        payload={"meeting_id": meeting.id, "starts_at": meeting.starts_at.isoformat()},
    )


def _tell(session: Session, meeting: Meeting, event: str, at: datetime) -> int:
    """A DM to every attendee: an invitation, or the news that the meeting moved or is off."""
    queued = 0
    for member in attendees(session, meeting.id):
        if not member.active:
            continue
        key = f"meeting:{meeting.id}:{event}:{member.id}"
        if event != "invite":
            key += f":v{meeting.version}"
        queued += outbox.enqueue(
            session,
            key=key,
            kind="meeting_invite" if event == "invite" else "meeting_changed",
            target=member.slack_id,
            payload={"meeting_id": meeting.id, "event": event},
            at=at,
        )
    return queued


def after_scheduled(session: Session, meeting: Meeting, *, at: datetime) -> None:
    """Invitations and reminders, in the transaction that scheduled the meeting."""
    _tell(session, meeting, "invite", at)
    times = reminder_times(calendar_for(session), meeting)
    for member in attendees(session, meeting.id):
        for rule, due in times.items():
            if due is not None and due > at:
                _schedule_one(session, meeting, member.id, rule, due, at)


def after_rescheduled(
    session: Session,
    meeting: Meeting,
    *,
    at: datetime,
    was: datetime | None = None,
    by_member_id: int | None = None,
) -> None:
    """The attendees are told; pending reminders move; those already posted say the meeting
    moved (from the time they announced — else `was` — to the new one, by whom, when) and are
    made again for the new time."""
    _tell(session, meeting, "rescheduled", at)
    subject = _subject(meeting)
    starts_at = meeting.starts_at.isoformat()
    for reminder in sent_of(session, subject):
        announced = (reminder.payload or {}).get("starts_at") or ended_detail(reminder).get("from")
        if announced is None and was is not None:
            announced = was.isoformat()
        moved = {"from": announced, "to": starts_at}
        retire(
            session, reminder, event=MEETING_MOVED, at=at, by_member_id=by_member_id, detail=moved
        )
    times = reminder_times(calendar_for(session), meeting)
    for rule, due in times.items():
        if due is None or due <= at:
            cancel_reminders(session, subject=subject, at=at, reason="meeting_moved", rule=rule)
            continue
        moved = move_reminders(session, subject=subject, rule=rule, to=due, at=at)
        for reminder in moved:  # what they will announce
            reminder.payload = {**(reminder.payload or {}), "starts_at": starts_at}
            session.add(reminder)
        have = {r.recipient for r in moved}
        for member in attendees(session, meeting.id):
            if str(member.id) not in have:
                _schedule_one(session, meeting, member.id, rule, due, at)


def after_attendees_changed(
    session: Session,
    meeting: Meeting,
    *,
    added: list[Member],
    removed: list[Member],
    at: datetime,
) -> None:
    """New attendees get the invitation and the reminders still ahead; those taken off get a
    short notice and their pending reminders are cancelled (the rows, not just skipped)."""
    times = reminder_times(calendar_for(session), meeting)
    for member in added:
        if member.active:
            outbox.enqueue(
                session,
                key=f"meeting:{meeting.id}:invite:{member.id}:v{meeting.version}",
                kind="meeting_invite",
                target=member.slack_id,
                payload={"meeting_id": meeting.id, "event": "invite"},
                at=at,
            )
        for rule, due in times.items():
            if due is not None and due > at:
                _schedule_one(session, meeting, member.id, rule, due, at)
    for member in removed:
        cancel_subject(
            session,
            subject=_subject(meeting),
            at=at,
            reason="attendee_removed",
            recipient=str(member.id),
        )
        if member.active:
            outbox.enqueue(
                session,
                key=f"meeting:{meeting.id}:uninvited:{member.id}:v{meeting.version}",
                kind="meeting_changed",
                target=member.slack_id,
                payload={"meeting_id": meeting.id, "event": "uninvited"},
                at=at,
            )


def after_cancelled(
    session: Session, meeting: Meeting, *, at: datetime, by_member_id: int | None = None
) -> int:
    """The attendees are told; pending reminders are cancelled; those already posted say so."""
    _tell(session, meeting, "cancelled", at)
    subject = _subject(meeting)
    retire_sent(session, subject=subject, event=MEETING_CANCELLED, at=at, by_member_id=by_member_id)
    return cancel_reminders(session, subject=subject, at=at, reason="meeting_cancelled")


def after_held(
    session: Session, meeting: Meeting, *, at: datetime, by_member_id: int | None = None
) -> int:
    """Its record kept (minutes, outcomes): the reminders already posted say the meeting was
    held (who recorded it, when) — once: a later correction of the record changes nothing, and
    one that says the meeting moved keeps saying so. Pending ones are cancelled."""
    subject = _subject(meeting)
    for reminder in sent_of(session, subject):
        if ended_by(reminder) is None:
            retire(session, reminder, event=MEETING_HELD, at=at, by_member_id=by_member_id)
    return cancel_reminders(session, subject=subject, at=at, reason="meeting_held")


def pending_reminders(session: Session, meeting: Meeting):
    return reminders_of(session, _subject(meeting), states=[ReminderState.pending])


# --- recurring Link-net meetings -------------------------------------------------------------


def _organiser(session: Session, series: MeetingSeries) -> Member | None:
    member = session.get(Member, series.created_by_id) if series.created_by_id else None
    if member is not None and member.active:
        return member
    coordinators = members_with_role(session, Role.coordinator)
    return coordinators[0] if coordinators else None


def next_occurrences(
    session: Session, series: MeetingSeries, *, now: datetime, cal: BusinessCalendar
) -> list[tuple[int, datetime]]:
    """(month index, start) of the occurrences due within SERIES_AHEAD that do not exist yet."""
    local = now.astimezone(cal.tz)
    first = local.year * 12 + local.month - 1
    found = []
    for month in range(first, first + 4):
        year, m = divmod(month, 12)
        day = cal.monthly_meeting_day(year, m + 1, series.weekday, series.nth)
        start = series_start(series, day)
        if now < start <= now + SERIES_AHEAD and occurrence_of(session, series.id, month) is None:
            found.append((month, start))
    return found


def ensure_series(session: Session, series: MeetingSeries, *, now: datetime) -> list[Meeting]:
    cal = calendar_for(session)
    organiser = _organiser(session, series)
    if organiser is None:
        return []
    member_ids = [
        m for m in series.member_ids if (x := session.get(Member, m)) is not None and x.active
    ]
    agency_ids = [
        a for a in series.agency_ids if (x := session.get(Agency, a)) is not None and x.active
    ]
    made = []
    for month, start in next_occurrences(session, series, now=now, cal=cal):
        meeting = meetings.schedule(
            session,
            kind=MeetingKind.linknet,
            starts_at=start,
            place=series.place,
            member_ids=member_ids,
            agency_ids=agency_ids,
            case_ids=[],
            created_by=organiser,
            at=now,
            has_consent=lambda *_: False,
            minutes_long=series.minutes_long,
            series_id=series.id,
            series_month=month,
            remind_before=series.remind_before,
        )
        after_scheduled(session, meeting, at=now)
        made.append(meeting)
    return made


def ensure_all_series(engine, *, now: datetime) -> int:
    """Each series in its own transaction: one that cannot be made does not stop the others."""
    with transaction(engine, write=False) as session:
        ids = [s.id for s in active_series(session)]
    made = 0
    for series_id in ids:
        try:
            with transaction(engine) as session:
                series = session.get(MeetingSeries, series_id)
                if series is not None and series.active:
                    made += len(ensure_series(session, series, now=now))
        except IntegrityError:  # another process made it at the same moment
            continue
        except Exception as exc:  # e.g. nobody left to invite: try again tomorrow
            log.warning("series %s: no occurrence made (%s)", series_id, type(exc).__name__)
    return made


@periodic("meeting_series", cron="35 8 * * 1-5")  # weekday mornings (invitations go out); at start
def _series_job(ctx: JobContext) -> None:
    if ensure_all_series(ctx.engine, now=ctx.now):
        ctx.kick_delivery()
