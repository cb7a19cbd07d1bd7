"""The three meetings as tables: meetings, their series, attendees, agenda and minutes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime
from models.cases.lifecycle import CaseState
from models.org.tables import Member

PLACE_LIMIT = 200


TOPIC_LIMIT = 200


TOPICS_MAX = 10


REMIND_BEFORE_CHOICES = (0, 30, 60, 120)  # minutes before the start; 0: no such reminder


LENGTH_CHOICES = (30, 60, 90, 120)


class MeetingKind(StrEnum):
    linknet = "linknet"
    saponet = "saponet"
    marugoto = "marugoto"


CASE_MEETINGS = (MeetingKind.saponet, MeetingKind.marugoto)


# A memo still waiting or held by one window is not for the meetings: the window escalates it
# to the coordinator first (重層推進室へつなぐ).
NOT_YET_FOR_MEETINGS = (CaseState.received, CaseState.window)


class MeetingState(StrEnum):
    scheduled = "scheduled"
    held = "held"  # its outcomes or minutes have been recorded
    cancelled = "cancelled"


class Meeting(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("series_id", "series_month"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12, index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    minutes_long: int = 60
    place: str | None = Field(default=None, max_length=PLACE_LIMIT)  # a room or an online link
    state: str = Field(default=MeetingState.scheduled, max_length=12)
    series_id: int | None = Field(default=None, foreign_key="meetingseries.id")
    series_month: int | None = None  # year*12 + month-1 of a series occurrence (one per month)
    remind_before: int = 60  # minutes; 0: only the business day before
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1  # bumped when moved or changed, so reminders and notices follow


class MeetingSeries(SQLModel, table=True):
    """A recurring Link-net meeting, e.g. the 2nd Tuesday of every month at 13:30."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=MeetingKind.linknet, max_length=12)
    weekday: int  # Monday = 0
    nth: int  # 1..5, or -1 for the last
    hour: int
    minute: int
    minutes_long: int = 60
    remind_before: int = 60
    place: str | None = Field(default=None, max_length=PLACE_LIMIT)
    member_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    agency_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
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


class MeetingMinutes(SQLModel, table=True):
    """The minutes (議事録) as rendered from the template, kept encrypted; `version` counts
    re-renderings (an outcome recorded later; an erasure blanking them, models.retention),
    `shared_version` the one attendees were sent."""

    __tablename__ = "meeting_minutes"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", unique=True)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    notes: list = Field(default_factory=list, sa_column=Column(EncryptedJSON, nullable=False))
    version: int = 1
    shared_version: int | None = None
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


def is_attendee(session: Session, meeting_id: int, member: Member) -> bool:
    row = session.exec(
        select(MeetingAttendee).where(
            MeetingAttendee.meeting_id == meeting_id, MeetingAttendee.member_id == member.id
        )
    ).first()
    return row is not None


def on_agenda(session: Session, meeting_id: int, case_id: int) -> bool:
    row = session.exec(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.case_id == case_id)
    ).first()
    return row is not None


def bound_by_confidentiality(member: Member) -> bool:
    return member.active and member.confidentiality_ack is not None
