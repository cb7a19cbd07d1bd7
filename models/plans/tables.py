"""Support plans as tables: meeting outcomes, plans (versioned), tasks, participation resources."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime

DIRECTION_LIMIT = 1000


WHAT_LIMIT = 300


NOTE_LIMIT = 500


GOALS_MAX = 5


TASKS_MAX = 5


DUE_TIME = time(17, 15)  # a task is due by the end of the office day (the calendar's default)


REVIEW_TIME = time(8, 30)  # a review falls due at the opening of its day


TASK_MESSAGE = "task_assigned"  # the notice telling an agency of its task (with its buttons)


TASK_MESSAGE_REFRESH = "task_message_refresh"  # chat.update of that message once it is closed


class NextStep(StrEnum):
    outreach_for_consent = "outreach_for_consent"  # build trust until the person agrees
    to_marugoto = "to_marugoto"  # consent obtained: plan at the まるごと会議
    start_support = "start_support"  # the plan runs; monitoring
    keep_discussing = "keep_discussing"  # the meeting takes the case up again
    continue_support = "continue_support"
    close = "close"


class Evaluation(StrEnum):
    achieved = "achieved"  # 達成
    partly = "partly"  # 一部達成
    not_achieved = "not_achieved"  # 未達成


class Decision(StrEnum):
    """What follows an evaluation."""

    replan = "replan"  # back to the たつのまるごと会議 for a new plan
    close = "close"  # 終結
    suspend = "suspend"  # 中断


class TaskState(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Outcome(SQLModel, table=True):
    """What a さぽネット/まるごと meeting agreed for one case."""

    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    direction: str = Field(sa_column=Column(EncryptedText, nullable=False))  # 支援方針
    lead_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    next_step: str = Field(max_length=32)
    review_on: date | None = None  # 次回評価日
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1  # bumped when recorded again (its review reminder follows)


class Plan(SQLModel, table=True):
    """One version of a case's plan; a revision adds a version, never overwrites."""

    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    version: int
    goals: list = Field(sa_column=Column(EncryptedJSON, nullable=False))
    review_on: date
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    current: bool = True
    evaluation: str | None = Field(default=None, max_length=16)
    evaluation_note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    evaluated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision: str | None = Field(default=None, max_length=16)  # after the evaluation


class PlanTask(SQLModel, table=True):
    """A role assignment (役割分担): which agency does what by when.

    Of a plan (たつのまるごと会議), or of a さぽネット会議's outcome (no plan without consent)."""

    # The open tasks, soonest due first (the App Home's list and its overdue ones): migration 0002.
    __table_args__ = (Index("ix_plantask_state_due_on", "state", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    outcome_id: int | None = Field(default=None, foreign_key="outcome.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    what: str = Field(sa_column=Column(EncryptedText, nullable=False))
    due_on: date
    state: str = Field(default=TaskState.open, max_length=12, index=True)
    progress: list = Field(default_factory=list, sa_column=Column(EncryptedJSON, nullable=False))
    progress_count: int = 0  # how many notes: lists show it without decrypting them
    resource_id: int | None = Field(default=None, foreign_key="resource.id")
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_id: int | None = Field(default=None, foreign_key="member.id")


class ResourceKind(StrEnum):
    ibasho = "ibasho"  # 居場所
    work = "work"  # 就労体験・就労支援
    volunteer = "volunteer"  # ボランティア
    salon = "salon"  # サロン・通いの場
    learning = "learning"  # 学習支援
    other = "other"


class Resource(SQLModel, table=True):
    """A local participation resource: 居場所, 就労体験, ボランティア, サロン …"""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    description: str | None = Field(default=None, max_length=300)
    source: str = Field(default="file", max_length=8)  # "file" (resources load) or "slack"
    active: bool = True
