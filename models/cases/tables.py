"""Cases as tables: the case, the memo it started from (encrypted), and its events."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime
from models.base.errors import DomainError
from models.cases.lifecycle import (
    CaseState,
)


class Case(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=16)
    fiscal_year: int = Field(index=True)
    seq: int
    state: str = Field(default=CaseState.received, index=True, max_length=20)
    domains: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    urgency: str = Field(max_length=20)
    age_band: str = Field(max_length=10)
    routed_agency_id: int = Field(foreign_key="agency.id", index=True)
    route_reason: str = Field(max_length=32)
    lead_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    referrer_id: int = Field(foreign_key="member.id", index=True)
    referrer_agency_id: int = Field(foreign_key="agency.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by_id: int | None = Field(default=None, foreign_key="member.id")
    state_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: created_at
    suspended_from: str | None = Field(default=None, max_length=20)  # where resume goes back to
    version: int = 1  # bumped on every change, so case messages know they need refreshing


class Referral(SQLModel, table=True):
    """The つなぎメモ as submitted. Only entitled members ever see these fields."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", unique=True)
    source_view_id: str | None = Field(default=None, unique=True, max_length=64)
    concerns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_to_share: str = Field(max_length=10)
    destination: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, sa_type=EncryptedText)
    person_name: str | None = Field(default=None, sa_type=EncryptedText)
    person_kana: str | None = Field(default=None, sa_type=EncryptedText)
    contact: str | None = Field(default=None, sa_type=EncryptedText)
    household: str | None = Field(default=None, sa_type=EncryptedText)
    narrative: str = Field(sa_type=EncryptedText)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    # The channel of the door the referrer clicked (Slack Connect partners): where their receipt
    # and later status notices go when a DM cannot reach them (bot/delivery.py).
    origin_channel: str | None = Field(default=None, max_length=32)


class CaseEvent(SQLModel, table=True):
    """Who moved a case, when, from where to where, and why.

    `code` is a coarse reason from a list (e.g. a CloseReason); `reason` is the free text a
    person typed (encrypted); `agency_id` is the agency the event is about (new window, lead).
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    kind: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    code: str | None = Field(default=None, max_length=32)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    reason: str | None = Field(default=None, sa_type=EncryptedText)  # may be free text


class ConsentStatus(StrEnum):
    given = "given"  # 同意あり
    refused = "refused"  # 同意なし（断られた）
    unknown = "unknown"  # 確認できていない
    withdrawn = "withdrawn"  # 撤回された


class ConsentMethod(StrEnum):
    oral = "oral"  # 口頭
    written = "written"  # 書面


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_record"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    status: str = Field(max_length=12)
    method: str | None = Field(default=None, max_length=12)
    obtained_on: date | None = None  # the day the person said so
    agency_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_type=EncryptedText)
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class Assessment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_assessment_version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    version: int
    members: list[dict] = Field(default_factory=list, sa_type=EncryptedJSON)
    main_issue: str = Field(sa_type=EncryptedText)
    wishes: str | None = Field(default=None, sa_type=EncryptedText)
    strengths: str | None = Field(default=None, sa_type=EncryptedText)
    risks: str | None = Field(default=None, sa_type=EncryptedText)
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


def current_consent(session: Session, case_id: int) -> ConsentRecord | None:
    """The latest record, or None when nothing has been recorded yet."""
    return session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case_id)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    ).first()


def has_consent(session: Session, case_id: int) -> bool:
    return case_id in with_consent(session, [case_id])


def with_consent(session: Session, case_ids: list[int]) -> set[int]:
    """Of `case_ids`, those whose current consent is given — in one query (a select's options)."""
    if not case_ids:
        return set()
    latest = (
        select(func.max(ConsentRecord.id))
        .where(ConsentRecord.case_id.in_(case_ids))
        .group_by(ConsentRecord.case_id)
    )
    rows = session.exec(
        select(ConsentRecord.case_id).where(
            ConsentRecord.id.in_(latest), ConsentRecord.status == ConsentStatus.given
        )
    )
    return set(rows)


def covers(session: Session, case_id: int, agency_id: int) -> bool:
    """Current consent is given and names this agency."""
    current = current_consent(session, case_id)
    return (
        current is not None
        and current.status == ConsentStatus.given
        and agency_id in (current.agency_ids or [])
    )


def require_consent(session: Session, case: Case) -> None:
    """The rule for the たつのまるごと会議; the message offers the さぽネット会議 instead."""
    if not has_consent(session, case.id):
        raise DomainError("consent.required_for_marugoto", number=case.number)
