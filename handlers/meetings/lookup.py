"""What a click on a meeting is about, read from the database: the meeting and the
coordinator's right to it, the members chosen in a form, the agencies to offer, and the
meeting as its modal shows it. For the meeting listeners (and the plan's: `pair`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from handlers.common import forms
from handlers.common.replies import int_or_none, require
from handlers.meetings.documents import case_facts
from handlers.meetings.views import AgendaLine, MeetingInfo
from models.base.errors import DomainError
from models.cases.access import Action
from models.meetings import schedule as domain
from models.meetings.minutes import minutes_of
from models.meetings.rules import attendees
from models.meetings.tables import Meeting
from models.org.roster import member_by_slack_id
from models.org.tables import Agency, Member
from models.plans.outcomes import outcome_of


def pair(value: object) -> tuple[int | None, int | None]:
    """ "12:34" -> (12, 34): the meeting and case of a button."""
    first, _, second = str(value or "").partition(":")
    return int_or_none(first), int_or_none(second)


def managed(session: Session, *, at, user: str, meeting_id: int | None) -> tuple:
    """The coordinator and the meeting they manage (else Refused, audited: anyone else is
    told it is the coordinator's, whether the meeting exists or not)."""
    meeting = domain.meeting_or_none(session, meeting_id)
    member = require(session, at=at, user=user, action=Action.manage_meeting, meeting=meeting)
    if meeting is None:
        raise DomainError("meeting.not_found")  # the coordinator, who sees every meeting
    return member, meeting


def attended(
    session: Session,
    *,
    at,
    user: str,
    meeting_id: int | None,
    action=Action.view_meeting,
    case=None,
) -> tuple:
    """The member and the meeting they may see (an attendee, the coordinator; with `case`, a
    case on its agenda); else Refused, audited, in the same words whether the meeting (or the
    case) does not exist or is not theirs to see."""
    meeting = domain.meeting_or_none(session, meeting_id)
    member = require(session, at=at, user=user, action=action, meeting=meeting, case=case)
    return member, meeting


def stale(meeting: Meeting, view: dict) -> bool:
    """The meeting changed since its form was opened."""
    return forms.read_metadata(view.get("private_metadata")).get("version") != meeting.version


def registered(session: Session, slack_ids: list[str]) -> list[Member]:
    """The members chosen by name; one who is not registered refuses the form."""
    chosen = [member_by_slack_id(session, s) for s in slack_ids]
    strangers = [s for s, m in zip(slack_ids, chosen, strict=True) if m is None]
    if strangers:
        raise DomainError("meeting.error.unregistered", n=len(strangers))
    return chosen


def active_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).where(Agency.active).order_by(Agency.position)))


def meeting_info(session: Session, meeting: Meeting, *, now: datetime) -> MeetingInfo:
    """The meeting as its modal and its agenda show it: the cases it may discuss now."""
    cases, left = domain.lawful_agenda(session, meeting)
    lines = [
        AgendaLine(
            case_id=case.id,
            number=case.number,
            facts=case_facts(case),
            recorded=outcome_of(session, meeting.id, case.id) is not None,
        )
        for case in cases
    ]
    return MeetingInfo(
        meeting_id=meeting.id,
        kind=meeting.kind,
        state=meeting.state,
        starts_at=meeting.starts_at,
        minutes_long=meeting.minutes_long,
        place=meeting.place,
        attendees=tuple(m.slack_id for m in attendees(session, meeting.id)),
        cases=tuple(lines),
        left_agenda=left,
        has_minutes=minutes_of(session, meeting.id) is not None,
        series=meeting.series_id is not None,
        started=meeting.starts_at <= now,
    )
