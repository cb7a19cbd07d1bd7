"""The queues as tables: outbox notices, reminder rows and clicks taken at the door (each
claimed under a lease)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.base.db import UTCDateTime


class NoticeState(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class Notice(SQLModel, table=True):
    __table_args__ = (Index("ix_notice_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # idempotency key; ids only, never personal
    kind: str = Field(max_length=40)
    target: str = Field(max_length=32)  # channel id, or a user id for a direct message
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=NoticeState.pending, max_length=12)
    due_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # wall clock
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # wall clock
    verify: bool = False  # a previous attempt may have reached Slack: look before posting again
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    result_channel: str | None = Field(default=None, max_length=32)
    result_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ReminderState(StrEnum):
    pending = "pending"
    claimed = "claimed"
    sent = "sent"  # handed to the outbox (which delivers, retries and never doubles)
    cancelled = "cancelled"
    failed = "failed"


OPEN_REMINDER_STATES = (ReminderState.pending, ReminderState.claimed)


class SubjectKind(StrEnum):
    """What a reminder is about. Later features add their kinds here."""

    case = "case"
    meeting = "meeting"
    plan = "plan"
    task = "task"  # a PlanTask (役割分担)
    outreach = "outreach"
    linknet = "linknet"


class RecipientKind(StrEnum):
    member = "member"  # Member.id: a direct message
    agency = "agency"  # Agency.id: its channel, else a DM to each active member
    channel = "channel"  # a Slack channel id


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: int | str

    @property
    def ref(self) -> str:
        return str(self.id)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    ref: str

    @classmethod
    def member(cls, member_id: int) -> Recipient:
        return cls(RecipientKind.member, str(member_id))

    @classmethod
    def agency(cls, agency_id: int) -> Recipient:
        return cls(RecipientKind.agency, str(agency_id))

    @classmethod
    def channel(cls, channel_id: str) -> Recipient:
        return cls(RecipientKind.channel, channel_id)


class Reminder(SQLModel, table=True):
    __table_args__ = (
        Index("ix_reminder_due", "state", "next_attempt_at"),
        Index("ix_reminder_subject", "subject_kind", "subject_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # idempotency key of scheduling; ids only
    subject_kind: str = Field(max_length=20)
    subject_id: str = Field(max_length=64)
    rule: str = Field(max_length=40)  # the rule that decides whether it applies and renders it
    recipient_kind: str = Field(max_length=12)
    recipient: str = Field(max_length=32)  # Member.id, Agency.id or a channel id (see kind)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # ids
    urgent: bool = False  # urgent ones go out outside office hours too
    state: str = Field(default=ReminderState.pending, max_length=12)
    due_at: datetime = Field(sa_type=UTCDateTime)  # when it falls due
    deliver_at: datetime = Field(sa_type=UTCDateTime)  # due_at moved into office hours
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)  # when the dispatcher may take it
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False  # sent well after deliver_at (the bot was down): the message says so
    last_error: str | None = Field(default=None, max_length=200)  # a code, never personal data
    snoozed_from_id: int | None = Field(default=None, foreign_key="reminder.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_id: int | None = Field(default=None, foreign_key="member.id")
    version: int = 1  # bumped when its message must be refreshed (done, snoozed)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def subject(self) -> Subject:
        return Subject(SubjectKind(self.subject_kind), self.subject_id)


class ClickState(StrEnum):
    pending = "pending"
    claimed = "claimed"
    done = "done"
    failed = "failed"


class Click(SQLModel, table=True):
    """A click on a channel card, acknowledged and stored by the door, done by the worker
    (handlers/common/deferred.py). Its payload holds ids only, never personal data."""

    __table_args__ = (Index("ix_click_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # the click itself: user and action_ts
    action: str = Field(max_length=80)  # the button's action id
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=ClickState.pending, max_length=12)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # wall clock
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)  # a code, never personal data
    created_at: datetime = Field(sa_type=UTCDateTime)
