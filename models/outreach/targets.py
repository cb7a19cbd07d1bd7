"""Outreach (アウトリーチ等を通じた継続的支援): people who cannot or will not come to a window.

A target is known in messages only by a pseudonymous label (e.g. OT-0007); who the person is,
the reason and every contact note are encrypted. Workers of the assigned agencies and the
coordinator see a target; nobody else does (`may_see`; models/cases/access.py asks it).

    active ──pause──► paused ──resume──► active
       │                 │
       ├── contact with 同意が得られた ──► consented   (the consent-based path: see below)
       └── close (coordinator) ─────────► closed

Every change of state is kept as an OutreachEvent (who, when, from, to, why — the why
encrypted), so the number of active targets at any month's end can be counted for Link-net.

Consent (`log_contact` with outcome 同意が得られた), in the caller's one transaction:
1. the target's case — or, for a target without one, a new case made through the intake domain
   with coarse facts only (routed to the coordinator, taken by the worker who obtained consent);
2. the consent record (models/cases/consent.record: 口頭/書面, covering the assigned agencies by
   default), dated the day of the contact;
3. the case moves toward the たつのまるごと会議 through the state machine (cases.move):
   assessment / saponet / evaluation → marugoto; window → coordination (the coordinator
   assesses first); coordination, marugoto, support, suspended stay where they are; a memo not
   yet taken (received) or a closed case refuses the consent, nothing is stored;
4. the coordinator's channel hears it (a notice, ids only) with the offer to put the case on
   the next たつのまるごと会議's agenda.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from models.base.errors import DomainError
from models.cases.concerns import AGE_BANDS
from models.org.roster import districts
from models.org.tables import Agency, Member, Role
from models.outreach.dates import check_date
from models.outreach.tables import (
    ASSIGNABLE_KINDS,
    MAX_CADENCE,
    OPEN_TARGET_STATES,
    PERSON_LIMITS,
    REASON_LIMIT,
    OutreachEvent,
    OutreachInvalid,
    OutreachTarget,
    OutreachWorker,
    ReasonKind,
    TargetState,
)

# --- dates ---------------------------------------------------------------------------------------


# --- settings (org file [outreach]) --------------------------------------------------------------


# --- targets -------------------------------------------------------------------------------------


@dataclass
class TargetInput:
    person: dict = field(default_factory=dict)  # name, kana, district, whereabouts, contact
    age_band: str = "unknown"
    reason_kind: str | None = None
    reason: str | None = None
    agency_ids: list[int] = field(default_factory=list)
    cadence_days: int | None = None
    first_contact_on: date | None = None


def assignable_agencies(session: Session) -> list[Agency]:
    rows = session.exec(
        select(Agency)
        .where(Agency.active, Agency.kind.in_([k.value for k in ASSIGNABLE_KINDS]))
        .order_by(Agency.position)
    )
    return list(rows)


def _clean_person(person: dict) -> dict:
    return {k: v.strip() for k, v in (person or {}).items() if isinstance(v, str) and v.strip()}


def validate_target(
    session: Session, data: TargetInput, *, at: datetime, case_id: int | None
) -> dict[str, str]:
    """Field (block id) -> message code for every problem; empty when it can be stored."""

    errors: dict[str, str] = {}
    person = _clean_person(data.person)
    if case_id is None and not person.get("name"):
        errors["name"] = "outreach.error.name_required"
    for key, limit in PERSON_LIMITS.items():
        if len(person.get(key, "")) > limit:
            errors[key] = "outreach.error.too_long"
    if person.get("district") and person["district"] not in districts(session):
        errors["district"] = "outreach.error.invalid_choice"
    if data.age_band not in AGE_BANDS:
        errors["age_band"] = "outreach.error.invalid_choice"
    if data.reason_kind not in ReasonKind.__members__:
        errors["reason_kind"] = "outreach.error.choose_reason"
    if data.reason and len(data.reason.strip()) > REASON_LIMIT:
        errors["reason"] = "outreach.error.too_long"
    allowed = {a.id for a in assignable_agencies(session)}
    if not data.agency_ids:
        errors["agencies"] = "outreach.error.workers_required"
    elif any(a not in allowed for a in data.agency_ids):
        errors["agencies"] = "outreach.error.invalid_choice"
    if data.cadence_days is None or not 1 <= data.cadence_days <= MAX_CADENCE:
        errors["cadence"] = "outreach.error.cadence_invalid"
    check_date(data.first_contact_on, "first_contact_on", at=at, errors=errors)
    if case_id is not None and open_target_of_case(session, case_id) is not None:
        errors["agencies"] = "outreach.error.case_already_listed"
    return errors


def open_target_of_case(session: Session, case_id: int) -> OutreachTarget | None:
    return session.exec(
        select(OutreachTarget).where(
            OutreachTarget.case_id == case_id,
            OutreachTarget.state.in_([s.value for s in OPEN_TARGET_STATES]),
        )
    ).first()


def record_event(
    session: Session,
    target: OutreachTarget,
    *,
    kind: str,
    actor_id: int | None,
    at: datetime,
    from_state: str | None,
    reason: str | None = None,
) -> OutreachEvent:
    event = OutreachEvent(
        target_id=target.id,
        at=at,
        actor_id=actor_id,
        kind=kind,
        from_state=from_state,
        to_state=target.state,
        reason=reason,
    )
    session.add(event)
    return event


def create(
    session: Session,
    *,
    data: TargetInput,
    created_by: Member,
    at: datetime,
    case_id: int | None = None,
) -> OutreachTarget:
    """A new target (validated; OutreachInvalid lists every problem). Label: OT-<id>."""
    errors = validate_target(session, data, at=at, case_id=case_id)
    if errors:
        raise OutreachInvalid(errors)
    target = OutreachTarget(
        label=f"tmp-{uuid.uuid4().hex[:12]}",  # replaced by OT-<id> once the id is known
        case_id=case_id,
        person={} if case_id is not None else _clean_person(data.person),
        age_band=data.age_band,
        reason_kind=ReasonKind(data.reason_kind),
        reason=(data.reason or "").strip() or None,
        cadence_days=data.cadence_days,
        next_contact_on=data.first_contact_on,
        created_by_id=created_by.id,
        created_at=at,
    )
    session.add(target)
    session.flush()
    target.label = f"OT-{target.id:04d}"
    session.add(target)
    for agency_id in dict.fromkeys(data.agency_ids):
        session.add(OutreachWorker(target_id=target.id, agency_id=agency_id))
    record_event(session, target, kind="created", actor_id=created_by.id, at=at, from_state=None)
    session.flush()
    return target


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
    age_band: str = "unknown",
) -> OutreachTarget:
    """`create` with keyword values (raises DomainError with the first problem's code)."""
    data = TargetInput(
        person=person,
        age_band=age_band,
        reason_kind=reason_kind,
        reason=reason,
        agency_ids=agency_ids,
        cadence_days=cadence_days,
        first_contact_on=first_contact_on,
    )
    try:
        return create(session, data=data, created_by=created_by, at=at, case_id=case_id)
    except OutreachInvalid as exc:
        raise DomainError(next(iter(exc.errors.values()))) from None


def target_by_id(session: Session, target_id: int | None) -> OutreachTarget:
    target = session.get(OutreachTarget, target_id) if target_id else None
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
    working = member.has(Role.window) or member.has(Role.support)
    return working and member.agency_id in worker_agencies(session, target.id)


# --- contacts ------------------------------------------------------------------------------------


# --- pause, resume, close ------------------------------------------------------------------------


def _reason(text: str | None) -> str:
    value = (text or "").strip()
    if not value:
        raise OutreachInvalid({"reason": "outreach.error.reason_required"})
    if len(value) > REASON_LIMIT:
        raise OutreachInvalid({"reason": "outreach.error.too_long"})
    return value


def pause(
    session: Session, target: OutreachTarget, *, reason: str | None, by: Member, at: datetime
) -> None:
    """Stop the visits for a while (入院, 本人の強い拒否 …): its reminders are cancelled."""
    if target.state != TargetState.active:
        raise DomainError("outreach.not_active", label=target.label)
    text = _reason(reason)
    target.state = TargetState.paused
    target.state_reason = text
    target.version += 1
    session.add(target)
    record_event(
        session,
        target,
        kind="paused",
        actor_id=by.id,
        at=at,
        from_state=TargetState.active,
        reason=text,
    )


def resume(
    session: Session,
    target: OutreachTarget,
    *,
    reason: str | None,
    next_contact_on: date | None,
    by: Member,
    at: datetime,
) -> None:
    """Start again, from a new next contact date (its reminders are scheduled anew)."""
    if target.state != TargetState.paused:
        raise DomainError("outreach.not_paused", label=target.label)
    errors: dict[str, str] = {}
    check_date(next_contact_on, "next_contact_on", at=at, errors=errors)
    text = _reason(reason)
    if errors:
        raise OutreachInvalid(errors)
    target.state = TargetState.active
    target.state_reason = text
    target.next_contact_on = next_contact_on
    target.version += 1
    session.add(target)
    record_event(
        session,
        target,
        kind="resumed",
        actor_id=by.id,
        at=at,
        from_state=TargetState.paused,
        reason=text,
    )


def close(session: Session, target: OutreachTarget, *, reason: str | None, by: Member, at):
    """End the outreach without consent (moved away, another service took over …)."""
    if target.state not in OPEN_TARGET_STATES:
        raise DomainError("outreach.not_open", label=target.label)
    text = _reason(reason)
    previous = target.state
    target.state = TargetState.closed
    target.state_reason = text
    target.version += 1
    session.add(target)
    record_event(
        session, target, kind="closed", actor_id=by.id, at=at, from_state=previous, reason=text
    )


# --- reading -------------------------------------------------------------------------------------


# --- figures -------------------------------------------------------------------------------------
