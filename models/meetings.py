"""The three meetings and the legal rules on who may attend and which cases may be discussed.

- さぽネット会議 (支援会議, art. 106-6): personal information may be shared WITHOUT consent, but
  only among registered members who acknowledged the confidentiality duty (守秘義務).
- たつのまるごと会議 (重層的支援会議): every case on the agenda needs the person's current consent.
- リンクネット会議: departments only share figures; no case, no personal data at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.cases import Case, case_by_id
from models.crypto import EncryptedText
from models.db import UTCDateTime
from models.errors import DomainError
from models.org import Agency, Member, active_members_of


class MeetingKind(StrEnum):
    linknet = "linknet"
    saponet = "saponet"
    marugoto = "marugoto"


class MeetingState(StrEnum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12, index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    minutes_long: int = 60
    place: str | None = Field(default=None, max_length=200)  # a room or an online link
    state: str = Field(default=MeetingState.scheduled, max_length=12)
    series_id: int | None = Field(default=None, foreign_key="meetingseries.id")
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1  # bumped when moved or changed, so reminders and notices follow


class MeetingSeries(SQLModel, table=True):
    """A recurring Link-net meeting, e.g. the 2nd Tuesday of every month at 13:30."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=MeetingKind.linknet, max_length=12)
    weekday: int  # Monday = 0
    nth: int  # 1..5, or -1 for the last
    hour: int
    minute: int
    place: str | None = Field(default=None, max_length=200)
    active: bool = True


class MeetingAttendee(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    via_agency_id: int | None = Field(default=None, foreign_key="agency.id")


class AgendaItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    position: int = 0


class AgendaTopic(SQLModel, table=True):
    """A Link-net topic: words about the system, never about a person."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    position: int = 0


ConsentCheck = Callable[[Session, int], bool]


def bound_by_confidentiality(member: Member) -> bool:
    return member.active and member.confidentiality_ack is not None


def expand_attendees(
    session: Session, *, member_ids: Iterable[int], agency_ids: Iterable[int]
) -> list[tuple[Member, int | None]]:
    """Members invited by name, plus every active member of each invited agency."""
    chosen: dict[int, tuple[Member, int | None]] = {}
    for agency_id in agency_ids:
        if session.get(Agency, agency_id) is None:
            raise DomainError("meeting.unknown_agency")
        for member in active_members_of(session, agency_id):
            chosen.setdefault(member.id, (member, agency_id))
    for member_id in member_ids:
        member = session.get(Member, member_id)
        if member is None or not member.active:
            raise DomainError("meeting.unknown_member")
        chosen[member_id] = (member, None)
    return list(chosen.values())


def check_rules(
    session: Session,
    *,
    kind: MeetingKind,
    attendees: list[Member],
    cases: list[Case],
    has_consent: ConsentCheck,
) -> None:
    """Refuse what the law does not allow, with a reason the coordinator sees."""
    if not attendees:
        raise DomainError("meeting.no_attendees")
    if kind is MeetingKind.linknet:
        if cases:
            raise DomainError("meeting.linknet_no_cases")
        return
    unbound = [m for m in attendees if not bound_by_confidentiality(m)]
    if kind is MeetingKind.saponet and unbound:
        raise DomainError(
            "meeting.saponet_unbound", users=" ".join(f"<@{m.slack_id}>" for m in unbound)
        )
    if kind is MeetingKind.marugoto:
        missing = [c for c in cases if not has_consent(session, c.id)]
        if missing:
            raise DomainError(
                "meeting.marugoto_needs_consent", numbers="、".join(c.number for c in missing)
            )


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
) -> Meeting:
    if starts_at <= at:
        raise DomainError("meeting.in_the_past")
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
        place=(place or "").strip() or None,
        created_by_id=created_by.id,
        created_at=at,
        series_id=series_id,
    )
    session.add(meeting)
    session.flush()
    for member, via in invited:
        session.add(MeetingAttendee(meeting_id=meeting.id, member_id=member.id, via_agency_id=via))
    for position, case in enumerate(cases):
        session.add(AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position))
    session.flush()
    return meeting


def meeting_by_id(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise DomainError("meeting.not_found")
    return meeting


def attendees(session: Session, meeting_id: int) -> list[Member]:
    rows = session.exec(
        select(Member)
        .join(MeetingAttendee, MeetingAttendee.member_id == Member.id)
        .where(MeetingAttendee.meeting_id == meeting_id)
        .order_by(Member.id)
    )
    return list(rows)


def agenda_cases(session: Session, meeting_id: int) -> list[Case]:
    rows = session.exec(
        select(Case)
        .join(AgendaItem, AgendaItem.case_id == Case.id)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position)
    )
    return list(rows)


def is_attendee(session: Session, meeting_id: int, member: Member) -> bool:
    row = session.exec(
        select(MeetingAttendee).where(
            MeetingAttendee.meeting_id == meeting_id, MeetingAttendee.member_id == member.id
        )
    ).first()
    return row is not None


def reschedule(session: Session, meeting: Meeting, *, starts_at: datetime, at: datetime) -> None:
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if starts_at <= at:
        raise DomainError("meeting.in_the_past")
    meeting.starts_at = starts_at
    meeting.version += 1
    session.add(meeting)


def cancel(session: Session, meeting: Meeting) -> None:
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    meeting.state = MeetingState.cancelled
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
