"""Outreach (アウトリーチ等を通じた継続的支援): people who cannot or will not come to a window.

A target is known in messages only by a pseudonymous label (e.g. OT-0007); who the person is,
the reason and every contact note are encrypted. Workers of the assigned agencies and the
coordinator see a target; nobody else does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.crypto import EncryptedJSON, EncryptedText
from models.db import UTCDateTime
from models.errors import DomainError
from models.org import Member, Role


class TargetState(StrEnum):
    active = "active"
    paused = "paused"
    consented = "consented"  # moved into the consent-based path
    closed = "closed"


class ReasonKind(StrEnum):
    hikikomori = "hikikomori"
    self_neglect = "self_neglect"
    refusal = "refusal"  # refuses help
    isolation = "isolation"
    other = "other"


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


class OutreachTarget(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(unique=True, max_length=16)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    person: dict = Field(sa_column=Column(EncryptedJSON, nullable=False))  # name, area, notes
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


NextBusinessDay = Callable[[date], date]  # the calendar's rule, passed in (no calendar here)


def propose_next(last: date, cadence_days: int, business_day: NextBusinessDay) -> date:
    """The cadence from the last contact, moved onto a business day."""
    return business_day(last + timedelta(days=cadence_days))


def _next_label(session: Session) -> str:
    count = session.exec(select(func.count()).select_from(OutreachTarget)).one()
    return f"OT-{count + 1:04d}"


def create_target(
    session: Session,
    *,
    person: dict,
    reason_kind: ReasonKind,
    reason: str | None,
    agency_ids: list[int],
    cadence_days: int,
    first_contact_on: date,
    created_by: Member,
    at: datetime,
    case_id: int | None = None,
) -> OutreachTarget:
    if not agency_ids:
        raise DomainError("outreach.workers_required")
    if not 1 <= cadence_days <= 180:
        raise DomainError("outreach.cadence_invalid")
    if first_contact_on < at.date() - timedelta(days=1):
        raise DomainError("outreach.date_in_the_past")
    if (
        case_id is not None
        and session.exec(
            select(OutreachTarget).where(
                OutreachTarget.case_id == case_id, OutreachTarget.state != TargetState.closed
            )
        ).first()
    ):
        raise DomainError("outreach.case_already_listed")
    target = OutreachTarget(
        label=_next_label(session),
        case_id=case_id,
        person={k: v.strip() for k, v in person.items() if v and v.strip()},
        reason_kind=reason_kind,
        reason=(reason or "").strip() or None,
        cadence_days=cadence_days,
        next_contact_on=first_contact_on,
        created_by_id=created_by.id,
        created_at=at,
    )
    session.add(target)
    session.flush()
    for agency_id in dict.fromkeys(agency_ids):
        session.add(OutreachWorker(target_id=target.id, agency_id=agency_id))
    session.flush()
    return target


def target_by_id(session: Session, target_id: int) -> OutreachTarget:
    target = session.get(OutreachTarget, target_id)
    if target is None:
        raise DomainError("outreach.not_found")
    return target


def worker_agencies(session: Session, target_id: int) -> set[int]:
    rows = session.exec(
        select(OutreachWorker.agency_id).where(OutreachWorker.target_id == target_id)
    )
    return set(rows)


def may_see(session: Session, member: Member | None, target: OutreachTarget) -> bool:
    """Only the assigned agencies' workers and the coordinator see a target."""
    if member is None or not member.active:
        return False
    if member.has(Role.coordinator):
        return True
    return member.agency_id in worker_agencies(session, target.id)


def log_contact(
    session: Session,
    *,
    target: OutreachTarget,
    method: Method,
    outcome: ContactOutcome,
    note: str | None,
    next_contact_on: date | None,
    by: Member,
    at: datetime,
) -> Contact:
    """Record a visit or call. A consent outcome closes the outreach loop (see consent_move)."""
    if target.state not in (TargetState.active, TargetState.paused):
        raise DomainError("outreach.not_active")
    if outcome is not ContactOutcome.consented:
        if next_contact_on is None:
            raise DomainError("outreach.next_date_required")
        if next_contact_on <= at.date() - timedelta(days=1):
            raise DomainError("outreach.date_in_the_past")
    if note is not None and len(note) > 1000:
        raise DomainError("outreach.note_too_long")
    contact = Contact(
        target_id=target.id,
        at=at,
        method=method,
        outcome=outcome,
        note=(note or "").strip() or None,
        by_id=by.id,
    )
    session.add(contact)
    if outcome is ContactOutcome.consented:
        target.state = TargetState.consented
    else:
        target.next_contact_on = next_contact_on
        target.state = TargetState.active
    target.version += 1
    session.add(target)
    return contact


def pause(session: Session, target: OutreachTarget, *, reason: str) -> None:
    if target.state != TargetState.active:
        raise DomainError("outreach.not_active")
    if not reason.strip():
        raise DomainError("outreach.reason_required")
    target.state = TargetState.paused
    target.state_reason = reason.strip()
    target.version += 1
    session.add(target)


def resume(session: Session, target: OutreachTarget, *, reason: str, next_contact_on: date):
    if target.state != TargetState.paused:
        raise DomainError("outreach.not_paused")
    if not reason.strip():
        raise DomainError("outreach.reason_required")
    target.state = TargetState.active
    target.state_reason = reason.strip()
    target.next_contact_on = next_contact_on
    target.version += 1
    session.add(target)


def contacts_of(session: Session, target_id: int) -> list[Contact]:
    return list(
        session.exec(select(Contact).where(Contact.target_id == target_id).order_by(Contact.at))
    )


def targets_for(session: Session, member: Member) -> list[OutreachTarget]:
    """Every target the member may see, active ones first by next contact date."""
    query = select(OutreachTarget).order_by(OutreachTarget.state, OutreachTarget.next_contact_on)
    if not member.has(Role.coordinator):
        query = query.join(OutreachWorker, OutreachWorker.target_id == OutreachTarget.id).where(
            OutreachWorker.agency_id == member.agency_id
        )
    return list(session.exec(query))


def figures(session: Session, *, since: datetime, until: datetime) -> dict[str, int]:
    """Counts for Link-net: targets active, contacts made, consents obtained (no labels)."""
    active = session.exec(
        select(func.count())
        .select_from(OutreachTarget)
        .where(OutreachTarget.state.in_([TargetState.active, TargetState.paused]))
    ).one()
    contacts = session.exec(
        select(func.count()).select_from(Contact).where(Contact.at >= since, Contact.at < until)
    ).one()
    consents = session.exec(
        select(func.count())
        .select_from(Contact)
        .where(Contact.at >= since, Contact.at < until, Contact.outcome == ContactOutcome.consented)
    ).one()
    return {"targets_active": active, "contacts": contacts, "consents": consents}
