"""Outreach's messages at send time: the contact reminders and the coordinator's consent notice,
read from the database as it is then and drawn by handlers/outreach/views.py. Labels and coarse
facts only: never the person."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlmodel import Session, select

from handlers.notices.readers import Renderer
from handlers.notices.views import Obsolete, Rendered
from handlers.outreach.views import (
    assigned_message,
    consent_message,
    reminder_content,
    reminder_outcome,
)
from handlers.reminders.notices import ContentReader, who_text
from handlers.reminders.views import ReminderContent
from models.cases.tables import Case
from models.meetings.series import next_meeting_of
from models.meetings.tables import MeetingKind, on_agenda
from models.org.tables import Agency
from models.outreach.dates import today
from models.outreach.listing import lines
from models.outreach.tables import OutreachEvent, OutreachTarget, TargetState
from models.outreach.targets import target_by_id
from models.queues.tables import Notice, Reminder
from reminders.outreach import OUTREACH_ASSIGNED, OUTREACH_CONTACT, OUTREACH_OVERDUE, target_of


def _reminder_content(session: Session, reminder: Reminder, key: str) -> ReminderContent:
    target = target_of(session, reminder)
    if target is None:
        raise Obsolete("the target is gone")
    now = reminder.sent_at or reminder.deliver_at
    line = lines(session, [target], day=today(now))[0]
    outcome = None
    if reminder.done_at is not None:  # a contact was recorded
        who = who_text(session, reminder.done_by_id)
        outcome = reminder_outcome(line, event="logged", who=who, at=reminder.done_at)
    elif target.state != TargetState.active:  # paused, closed, consented
        events = session.exec(
            select(OutreachEvent)
            .where(OutreachEvent.target_id == target.id)
            .order_by(OutreachEvent.at.desc(), OutreachEvent.id.desc())
        ).first()
        at = events.at if events else target.created_at
        who = who_text(session, events.actor_id if events else None)
        outcome = reminder_outcome(line, event="changed", who=who, at=at)
    return reminder_content(line, key, outcome=outcome)


def _consent_notice(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    target = target_by_id(session, notice.payload["target_id"])
    case = session.get(Case, target.case_id) if target.case_id else None
    if case is None:
        raise Obsolete("the target has no case")
    meeting = next_meeting_of(session, MeetingKind.marugoto, now=notice.created_at)
    return consent_message(
        target_id=target.id,
        target_label=target.label,
        case_id=case.id,
        number=case.number,
        state=case.state,
        meeting=meeting,
        on_agenda=meeting is not None and on_agenda(session, meeting.id, case.id),
    )


def _assigned(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    target = session.get(OutreachTarget, notice.payload["target_id"])
    agency = session.get(Agency, notice.payload["agency_id"])
    if target is None or target.state == TargetState.closed or agency is None:
        raise Obsolete("the target was closed before its agencies were told")
    line = lines(session, [target], day=today(notice.created_at))[0]
    return assigned_message(line, agency=agency.name)


NOTICES: dict[str, Renderer] = {
    "outreach_consent": _consent_notice,
    OUTREACH_ASSIGNED: _assigned,
}
REMINDERS: dict[str, ContentReader] = {
    OUTREACH_CONTACT: partial(_reminder_content, key="contact"),
    OUTREACH_OVERDUE: partial(_reminder_content, key="overdue"),
}
