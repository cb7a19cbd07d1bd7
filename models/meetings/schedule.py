"""The three meetings and the legal rules on who may attend and which cases may be discussed.

- さぽネット会議 (支援会議, art. 106-6): personal information may be shared WITHOUT consent, but
  only among registered members who acknowledged the confidentiality duty (守秘義務).
- たつのまるごと会議 (重層的支援会議): every case on the agenda needs the person's current consent.
- リンクネット会議: departments only share figures; no case, no personal data at all.

The rules are checked when a meeting is scheduled (`schedule`, refusing with a reason) and again
whenever someone looks at it (models/cases/access.py: an attendee whose 守秘義務 lapsed, a case
whose consent was withdrawn, is not shown anything more).

A recurring Link-net meeting is a `MeetingSeries` (e.g. the 2nd Tuesday of every month at 13:30);
its occurrences are ordinary meetings, one per month (`series_month`), generated ahead by
reminders/meetings.py following the business calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from models.base.errors import DomainError
from models.base.ids import id_or_none
from models.cases import tables as case_tables
from models.cases.records import case_by_id
from models.cases.tables import Case
from models.meetings.rules import (
    ConsentCheck,
    _place,
    attendees,
    check_attendees,
    check_rules,
    clean_lines,
    expand_attendees,
)
from models.meetings.tables import (
    REMIND_BEFORE_CHOICES,
    AgendaItem,
    AgendaTopic,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingState,
    on_agenda,
)
from models.org.tables import Member

# --- Link-net topics: about the system, never about a person -----------------------------------


def schedule(
    session: Session,
    *,
    kind: MeetingKind,
    starts_at: datetime,
    place: str | None,
    member_ids: Iterable[int],
    agency_ids: Iterable[int],
    case_ids: Iterable[int],
    created_by: Member,
    at: datetime,
    has_consent: ConsentCheck,
    minutes_long: int = 60,
    series_id: int | None = None,
    series_month: int | None = None,
    topics: Iterable[str] = (),
    remind_before: int = 60,
) -> Meeting:
    kind = MeetingKind(kind)
    if starts_at <= at:
        raise DomainError("meeting.in_the_past")
    if remind_before not in REMIND_BEFORE_CHOICES:
        raise DomainError("meeting.bad_reminder")
    topics = clean_lines(topics)
    if topics and kind is not MeetingKind.linknet:
        raise DomainError("meeting.topics_only_linknet")
    invited = expand_attendees(session, member_ids=member_ids, agency_ids=agency_ids)
    cases = [case_by_id(session, cid) for cid in dict.fromkeys(case_ids)]
    check_rules(
        session,
        kind=kind,
        attendees=[m for m, _ in invited],
        cases=cases,
        has_consent=has_consent,
    )
    meeting = Meeting(
        kind=kind,
        starts_at=starts_at,
        minutes_long=minutes_long,
        place=_place(place),
        created_by_id=created_by.id,
        created_at=at,
        series_id=series_id,
        series_month=series_month,
        remind_before=remind_before,
    )
    session.add(meeting)
    session.flush()
    for member, via in invited:
        session.add(MeetingAttendee(meeting_id=meeting.id, member_id=member.id, via_agency_id=via))
    for position, case in enumerate(cases):
        session.add(AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position))
    for position, text in enumerate(topics):
        session.add(AgendaTopic(meeting_id=meeting.id, text=text, position=position))
    session.flush()
    return meeting


def meeting_by_id(session: Session, meeting_id: int | None) -> Meeting:
    meeting = meeting_or_none(session, meeting_id)
    if meeting is None:
        raise DomainError("meeting.not_found")
    return meeting


def meeting_or_none(session: Session, meeting_id: object) -> Meeting | None:
    """The meeting a button or a command names, or None (refused by the rights check in the
    same words as a meeting the person does not attend)."""
    meeting_id = id_or_none(meeting_id)
    return session.get(Meeting, meeting_id) if meeting_id is not None else None


def agenda_cases(session: Session, meeting_id: int) -> list[Case]:
    rows = session.exec(
        select(Case)
        .join(AgendaItem, AgendaItem.case_id == Case.id)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position)
    )
    return list(rows)


def lawful_agenda(session: Session, meeting: Meeting) -> tuple[list[Case], int]:
    """The cases the meeting may discuss now, and how many left its agenda: a たつのまるごと会議
    keeps only cases whose consent is still current (a withdrawn one goes back to さぽネット)."""
    cases = agenda_cases(session, meeting.id)
    if meeting.kind == MeetingKind.marugoto:
        kept = [c for c in cases if case_tables.has_consent(session, c.id)]
        return kept, len(cases) - len(kept)
    if meeting.kind == MeetingKind.linknet:
        return [], 0
    return cases, 0


def topics_of(session: Session, meeting_id: int) -> list[str]:
    rows = session.exec(
        select(AgendaTopic)
        .where(AgendaTopic.meeting_id == meeting_id)
        .order_by(AgendaTopic.position, AgendaTopic.id)
    )
    return [row.text for row in rows]


def replace_topics(session: Session, meeting: Meeting, topics: list[str]) -> None:
    """A Link-net meeting's topics as recorded after it: the new list replaces the old."""
    for row in session.exec(select(AgendaTopic).where(AgendaTopic.meeting_id == meeting.id)):
        session.delete(row)
    session.flush()
    for i, text in enumerate(topics):
        session.add(AgendaTopic(meeting_id=meeting.id, text=text, position=i))
    session.flush()


def reschedule(
    session: Session,
    meeting: Meeting,
    *,
    starts_at: datetime,
    at: datetime,
    place: str | None = None,
    keep_place: bool = True,
) -> None:
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if starts_at <= at:
        raise DomainError("meeting.in_the_past")
    new_place = meeting.place if keep_place else _place(place)
    if starts_at == meeting.starts_at and new_place == meeting.place:
        raise DomainError("meeting.nothing_changed")
    meeting.starts_at = starts_at
    meeting.place = new_place
    meeting.version += 1
    session.add(meeting)


def change_attendees(
    session: Session,
    meeting: Meeting,
    *,
    member_ids: Iterable[int],
    agency_ids: Iterable[int],
    at: datetime,
    has_consent: ConsentCheck,
) -> tuple[list[Member], list[Member]]:
    """Replace who attends a scheduled meeting that has not begun, under the same rules as
    schedule(); returns (added, removed). Only the attendee rules are checked again, against
    the cases the meeting may still discuss (a case whose consent was withdrawn has left a
    たつのまるごと会議 already, see lawful_agenda)."""
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if meeting.starts_at <= at:
        raise DomainError("meeting.already_started")
    kind = MeetingKind(meeting.kind)
    invited = expand_attendees(session, member_ids=member_ids, agency_ids=agency_ids)
    cases = agenda_cases(session, meeting.id)
    if kind is MeetingKind.marugoto:
        cases = [c for c in cases if has_consent(session, c.id)]
    check_attendees(session, kind=kind, attendees=[m for m, _ in invited], cases=cases)
    rows = {
        row.member_id: row
        for row in session.exec(
            select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)
        )
    }
    wanted = {m.id: (m, via) for m, via in invited}
    if set(wanted) == set(rows):
        raise DomainError("meeting.attendees_unchanged")
    removed = [session.get(Member, mid) for mid in sorted(set(rows) - set(wanted))]
    added = [wanted[mid][0] for mid in sorted(set(wanted) - set(rows))]
    for mid in set(rows) - set(wanted):
        session.delete(rows[mid])
    for member in added:
        session.add(
            MeetingAttendee(
                meeting_id=meeting.id, member_id=member.id, via_agency_id=wanted[member.id][1]
            )
        )
    meeting.version += 1
    session.add(meeting)
    session.flush()
    return added, removed


def cancel(session: Session, meeting: Meeting) -> None:
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    meeting.state = MeetingState.cancelled
    meeting.version += 1
    session.add(meeting)


def require_started(meeting: Meeting, *, at: datetime) -> None:
    """Outcomes and minutes are recorded once a meeting has begun, never for a cancelled one."""
    if meeting.state == MeetingState.cancelled:
        raise DomainError("meeting.cancelled")
    if meeting.starts_at > at:
        raise DomainError("meeting.not_yet_held")


def mark_held(session: Session, meeting: Meeting, *, at: datetime) -> None:
    if meeting.state == MeetingState.scheduled:
        meeting.state = MeetingState.held
        meeting.held_at = at
        meeting.version += 1
        session.add(meeting)


def next_meetings(session: Session, *, now: datetime, limit: int = 5) -> list[Meeting]:
    rows = session.exec(
        select(Meeting)
        .where(Meeting.state == MeetingState.scheduled, Meeting.starts_at >= now)
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return list(rows)


def meetings_of(
    session: Session, member: Member, *, since: datetime, limit: int = 10
) -> list[Meeting]:
    """Meetings this member is invited to that start at or after `since` (not cancelled)."""
    rows = session.exec(
        select(Meeting)
        .join(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
        .where(
            MeetingAttendee.member_id == member.id,
            Meeting.state != MeetingState.cancelled,
            Meeting.starts_at >= since,
        )
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return list(rows)


# --- minutes ------------------------------------------------------------------------------------


# --- recurring Link-net meetings ------------------------------------------------------------------


# --- outreach (issue 6): a case that just got consent, onto the next meeting's agenda ------------


def add_case_to_agenda(
    session: Session, *, meeting: Meeting, case: Case, has_consent: ConsentCheck, at: datetime
) -> bool:
    """Put a case last on a scheduled meeting's agenda, under the same legal rules as schedule().

    Returns False when it is already there (nothing changes).
    """
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if meeting.starts_at <= at:
        raise DomainError("meeting.in_the_past")
    if on_agenda(session, meeting.id, case.id):
        return False
    check_rules(
        session,
        kind=MeetingKind(meeting.kind),
        attendees=attendees(session, meeting.id),
        cases=[case],
        has_consent=has_consent,
    )
    from sqlalchemy import func

    last = session.exec(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    ).one()
    position = 0 if last is None else last + 1
    session.add(AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position))
    session.flush()
    return True
