"""A meeting's messages and reminders at send time: read from the database (is the meeting
still on, is the person still invited?), then drawn by handlers/meetings/message_views.py.
A message that no longer applies is not sent (Obsolete)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlmodel import Session

from handlers.meetings import message_views
from handlers.notices.readers import Renderer
from handlers.notices.views import Obsolete, Rendered
from handlers.reminders.notices import ContentReader
from handlers.reminders.views import ReminderContent
from models.meetings.rules import attendees
from models.meetings.tables import Meeting, MeetingState
from models.org.tables import Member
from models.queues.reminders import ended_by, ended_detail
from models.queues.tables import Notice, Reminder
from reminders.meetings import MEETING_EVE, MEETING_MOVED, MEETING_SOON, meeting_of


def _meeting(session: Session, notice: Notice) -> Meeting:
    meeting = session.get(Meeting, notice.payload["meeting_id"])
    if meeting is None:
        raise Obsolete("the meeting is gone")
    return meeting


def _invited(session: Session, meeting: Meeting, notice: Notice) -> bool:
    return notice.target in {m.slack_id for m in attendees(session, meeting.id)}


def _still_invited(session: Session, meeting: Meeting, notice: Notice) -> None:
    """An attendee taken off before the message went out gets only the notice saying so."""
    if not _invited(session, meeting, notice):
        raise Obsolete("no longer an attendee")


def _invite(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    meeting = _meeting(session, notice)
    if meeting.state == MeetingState.cancelled:
        raise Obsolete("the meeting was cancelled before the invitation went out")
    _still_invited(session, meeting, notice)
    return message_views.invitation(meeting)


def _changed(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    meeting = _meeting(session, notice)
    event = notice.payload.get("event")
    if event == "uninvited" and _invited(session, meeting, notice):
        raise Obsolete("invited again since")
    if event not in ("cancelled", "uninvited"):
        if meeting.state == MeetingState.cancelled:
            raise Obsolete("cancelled since it moved")
        _still_invited(session, meeting, notice)
    return message_views.change(meeting, event)


def _minutes_ready(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    return message_views.minutes_ready(_meeting(session, notice))


def _moved(session: Session, reminder: Reminder) -> message_views.Moved | None:
    """What a posted reminder says once its meeting moved (retired by after_rescheduled)."""
    ended = ended_by(reminder)
    detail = ended_detail(reminder)
    if ended is None or ended[0] != MEETING_MOVED or not detail.get("to"):
        return None
    to = datetime.fromisoformat(detail["to"])
    announced = datetime.fromisoformat(detail["from"]) if detail.get("from") else to
    by = session.get(Member, ended[1]) if ended[1] else None
    return message_views.Moved(
        announced=announced, to=to, by=by.slack_id if by else None, at=ended[2]
    )


def _meeting_reminder(session: Session, reminder: Reminder, key: str) -> ReminderContent:
    meeting = meeting_of(session, reminder)
    if meeting is None:
        raise Obsolete("the meeting is gone")
    return message_views.reminder(meeting, key, moved=_moved(session, reminder))


NOTICES: dict[str, Renderer] = {
    "meeting_invite": _invite,
    "meeting_changed": _changed,
    "minutes_ready": _minutes_ready,
}
REMINDERS: dict[str, ContentReader] = {
    MEETING_EVE: partial(_meeting_reminder, key="eve"),
    MEETING_SOON: partial(_meeting_reminder, key="soon"),
}
