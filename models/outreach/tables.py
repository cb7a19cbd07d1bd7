"""Outreach as tables: the people followed (targets), their workers, contacts and events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime
from models.base.errors import DomainError
from models.org.tables import AgencyKind


class TargetState(StrEnum):
    active = "active"
    paused = "paused"
    consented = "consented"  # moved into the consent-based path
    closed = "closed"


STATE_ORDER = (TargetState.active, TargetState.paused, TargetState.consented, TargetState.closed)


OPEN_TARGET_STATES = (TargetState.active, TargetState.paused)


class ReasonKind(StrEnum):
    hikikomori = "hikikomori"
    self_neglect = "self_neglect"
    refusal = "refusal"  # refuses help
    isolation = "isolation"
    other = "other"


# The memo concern a reason becomes when a case is made for a target (coarse, no text).
REASON_CONCERN = {
    ReasonKind.hikikomori: "hikikomori",
    ReasonKind.self_neglect: "self_neglect",
    ReasonKind.refusal: "sonota",
    ReasonKind.isolation: "koritsu",
    ReasonKind.other: "sonota",
}


class Method(StrEnum):
    visit = "visit"  # 訪問
    phone = "phone"  # 電話
    letter = "letter"  # 手紙
    via_other = "via_other"  # 関係者経由


class ContactOutcome(StrEnum):
    met = "met"  # 会えた
    absent = "absent"  # 不在
    refused = "refused"  # 拒否
    building = "building"  # 関係づくり中
    consented = "consented"  # 同意が得られた


CADENCES = (7, 14, 28)  # the choices offered (1 / 2 / 4 weeks); the domain accepts 1..180 days


MAX_CADENCE = 180


MAX_AHEAD = timedelta(days=366)  # a next contact date further away is a typo


NOTE_LIMIT = 500


REASON_LIMIT = 500


PERSON_LIMITS = {"name": 50, "kana": 50, "district": 50, "whereabouts": 200, "contact": 100}


# Agencies that may be assigned: those that visit and call (not partners, not departments).
ASSIGNABLE_KINDS = (AgencyKind.coordinator, AgencyKind.window, AgencyKind.support)


DEFAULT_ESCALATE_AFTER = 3  # business days after a missed contact date → the coordinator


class OutreachTarget(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(unique=True, max_length=16)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    # name, kana, district, whereabouts, contact — empty for a target made from a case (the
    # case holds the person; nothing is copied).
    person: dict = Field(sa_column=Column(EncryptedJSON, nullable=False))
    age_band: str = Field(default="unknown", max_length=10)  # coarse (models.concerns.AGE_BANDS)
    reason_kind: str = Field(max_length=20)
    reason: str | None = Field(default=None, sa_column=Column(EncryptedText))
    cadence_days: int = 14
    next_contact_on: date = Field(index=True)
    state: str = Field(default=TargetState.active, max_length=12, index=True)
    state_reason: str | None = Field(default=None, sa_column=Column(EncryptedText))
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1  # bumped when the next contact date moves, so its reminders follow


class OutreachWorker(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("target_id", "agency_id"),)

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="outreachtarget.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="outreachtarget.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    method: str = Field(max_length=12)
    outcome: str = Field(max_length=12)
    note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    by_id: int = Field(foreign_key="member.id")


class OutreachEvent(SQLModel, table=True):
    """A change of a target's state (created, paused, resumed, consented, closed)."""

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="outreachtarget.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    kind: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=12)
    to_state: str | None = Field(default=None, max_length=12)
    reason: str | None = Field(default=None, sa_column=Column(EncryptedText))


class OutreachInvalid(DomainError):
    """Something in a form is missing or wrong: field (block id) -> message code."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("outreach.invalid")
        self.errors = errors
