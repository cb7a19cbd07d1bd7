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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint, func
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, select

from models.base.clock import TOKYO
from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime
from models.base.errors import DomainError
from models.org.roster import setting
from models.org.tables import Agency, AgencyKind, Member, Role


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


# --- dates ---------------------------------------------------------------------------------------

IsBusinessDay = Callable[[date], bool]  # the calendar's rule, passed in (no calendar here)


def today(at: datetime) -> date:
    """The town's date at `at` (JST): what "today" means on every form."""
    return at.astimezone(TOKYO).date()


def on_business_day(day: date, is_business_day: IsBusinessDay) -> date:
    """`day` itself if the office is open then, else the next business day."""
    for _ in range(800):
        if is_business_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError("no business day ahead")


def propose_next(last: date, cadence_days: int, is_business_day: IsBusinessDay) -> date:
    """The cadence from the last contact, moved onto a business day (weekend, 祝日, 年末年始)."""
    return on_business_day(last + timedelta(days=cadence_days), is_business_day)


def _check_date(value: date | None, field_name: str, *, at: datetime, errors: dict) -> None:
    if value is None:
        errors[field_name] = "outreach.error.date_required"
    elif value < today(at):
        errors[field_name] = "outreach.error.date_in_the_past"
    elif value > today(at) + MAX_AHEAD:
        errors[field_name] = "outreach.error.date_too_far"


# --- settings (org file [outreach]) --------------------------------------------------------------


def settings_problems(section: object) -> list[tuple[str, str]]:
    """(key, problem code) for each bad value of the org file's [outreach] section."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return [("", "outreach_not_table")]
    problems = []
    for key, value in section.items():
        if key == "escalate_after_days":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 30:
                problems.append((key, "outreach_escalate_invalid"))
        else:
            problems.append((key, "outreach_key_unknown"))
    return problems


def escalate_after_days(session: Session) -> int:
    """Business days after a missed contact date before the coordinator is told (default 3)."""
    section = setting(session, "outreach", {}) or {}
    value = section.get("escalate_after_days") if isinstance(section, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 30:
        return value
    return DEFAULT_ESCALATE_AFTER


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
    from models.cases.concerns import AGE_BANDS
    from models.org.roster import districts

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
    _check_date(data.first_contact_on, "first_contact_on", at=at, errors=errors)
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


@dataclass
class ContactInput:
    method: str | None = None
    outcome: str | None = None
    note: str | None = None
    next_contact_on: date | None = None
    consent_method: str | None = None  # 口頭 / 書面, when the outcome is 同意が得られた
    consent_agency_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ConsentMove:
    """What recording consent did to the case."""

    case_id: int
    number: str
    created: bool  # a case was made for the target
    moved_to: str | None  # the state the case was moved to (None: it stays)
    state: str  # the case's state now


@dataclass(frozen=True)
class Logged:
    contact: Contact
    consent: ConsentMove | None = None


def validate_contact(target: OutreachTarget, data: ContactInput, *, at: datetime) -> dict:
    errors: dict[str, str] = {}
    if data.method not in Method.__members__:
        errors["method"] = "outreach.error.choose_method"
    if data.outcome not in ContactOutcome.__members__:
        errors["outcome"] = "outreach.error.choose_outcome"
    if data.note and len(data.note.strip()) > NOTE_LIMIT:
        errors["note"] = "outreach.error.too_long"
    if data.outcome == ContactOutcome.consented:
        if data.consent_method not in ("oral", "written"):
            errors["consent_method"] = "outreach.error.choose_consent_method"
        if not data.consent_agency_ids:
            errors["consent_agencies"] = "outreach.error.consent_agencies_required"
    elif data.outcome in ContactOutcome.__members__:
        _check_date(data.next_contact_on, "next_contact_on", at=at, errors=errors)
    return errors


def log_contact(
    session: Session,
    *,
    target: OutreachTarget,
    data: ContactInput,
    by: Member,
    at: datetime,
    intake_narrative: str | None = None,
) -> Logged:
    """Record a visit or call; move the next contact date; on consent, the consent move.

    Raises OutreachInvalid (fields) for bad input; the caller's transaction then stores nothing.
    `intake_narrative`: the memo text of a case made for a target without one (the handler
    writes it in Japanese; it is encrypted like every narrative).
    """
    if target.state not in OPEN_TARGET_STATES:
        raise DomainError("outreach.not_open", label=target.label)
    errors = validate_contact(target, data, at=at)
    if errors:
        raise OutreachInvalid(errors)
    contact = Contact(
        target_id=target.id,
        at=at,
        method=Method(data.method),
        outcome=ContactOutcome(data.outcome),
        note=(data.note or "").strip() or None,
        by_id=by.id,
    )
    session.add(contact)
    previous = target.state
    moved = None
    if contact.outcome == ContactOutcome.consented:
        moved = _consent_move(
            session, target=target, data=data, by=by, at=at, narrative=intake_narrative
        )
        target.state = TargetState.consented
        target.state_reason = None
        record_event(session, target, kind="consented", actor_id=by.id, at=at, from_state=previous)
    else:
        target.next_contact_on = data.next_contact_on
        if previous != TargetState.active:  # a contact while paused resumes the outreach
            target.state = TargetState.active
            record_event(
                session, target, kind="resumed", actor_id=by.id, at=at, from_state=previous
            )
    target.version += 1
    session.add(target)
    session.flush()
    return Logged(contact, moved)


# Where consent obtained through outreach moves a case (cases.move checks each step).
CONSENT_MOVES = {
    "assessment": "marugoto",
    "saponet": "marugoto",
    "evaluation": "marugoto",
    "window": "coordination",
}
CONSENT_REFUSED = {
    "received": "outreach.error.case_not_taken",
    "closed": "outreach.error.case_closed",
}


def _consent_move(
    session: Session,
    *,
    target: OutreachTarget,
    data: ContactInput,
    by: Member,
    at: datetime,
    narrative: str | None,
) -> ConsentMove:
    from models.cases.casework import post_cards
    from models.cases.consent import ConsentInput, ConsentInvalid, record
    from models.cases.lifecycle import CaseState
    from models.cases.memo import refresh_case_messages
    from models.cases.records import move
    from models.cases.tables import Case
    from models.org.roster import channel_for, coordinator_agency
    from models.queues import outbox

    created = False
    if target.case_id is not None:
        case = session.get(Case, target.case_id)
        if case is None:
            raise DomainError("case.not_found")
        if case.state in CONSENT_REFUSED:
            raise OutreachInvalid({"outcome": CONSENT_REFUSED[case.state]})
    else:
        case = _case_for(session, target, by=by, at=at, narrative=narrative)
        created = True
    try:
        record(
            session,
            case=case,
            member=by,
            data=ConsentInput(
                status="given",
                method=data.consent_method,
                obtained_on=today(at),
                agency_ids=list(data.consent_agency_ids),
            ),
            at=at,
        )
    except ConsentInvalid as exc:
        fields = {"method": "consent_method", "agencies": "consent_agencies"}
        raise OutreachInvalid(
            {fields.get(f, "outcome"): code for f, code in exc.errors.items()}
        ) from None
    moved_to = CONSENT_MOVES.get(case.state)
    if moved_to is not None:
        move(
            session,
            case,
            CaseState(moved_to),
            actor_id=by.id,
            at=at,
            kind="outreach_consent",
            code=target.label,
        )
        if moved_to == CaseState.coordination and (coordinator := coordinator_agency(session)):
            post_cards(session, case, coordinator, at)
        refresh_case_messages(session, case, at)
    target.case_id = case.id
    channel = channel_for(session, "coordinator")
    if channel:
        outbox.enqueue(
            session,
            key=f"outreach:{target.id}:consent",
            kind="outreach_consent",
            target=channel,
            payload={"target_id": target.id},
            at=at,
        )
    return ConsentMove(case.id, case.number, created, moved_to, case.state)


def _case_for(session: Session, target: OutreachTarget, *, by: Member, at: datetime, narrative):
    """A case for a target that has none: through the intake domain, coarse facts only.

    Routed to the coordinator (わからない), and taken (受付) at once by the worker who obtained
    the consent: the person is known, nobody needs to be asked to take it.
    """
    from models.cases import memo as intake
    from models.cases.concerns import ConsentToShare, Urgency
    from models.cases.routing import UNKNOWN_DESTINATION
    from models.org.roster import districts

    person = target.person or {}
    district = person.get("district")
    memo = intake.MemoInput(
        narrative=(narrative or target.label).strip(),
        concerns=[REASON_CONCERN[ReasonKind(target.reason_kind)]],
        urgency=Urgency.normal,
        consent_to_share=ConsentToShare.yes,
        age_band=target.age_band,
        district=district if district in districts(session) else None,
        destination=UNKNOWN_DESTINATION,
        person_name=person.get("name"),
        person_kana=person.get("kana"),
        contact=person.get("contact"),
    )
    problems = intake.validate(session, memo)
    if problems:  # a value the memo does not accept (too long …): say so, store nothing
        raise OutreachInvalid({"outcome": "outreach.error.case_not_made"})
    case = intake.submit(session, memo=memo, referrer=by, view_id=None, at=at)
    return intake.acknowledge(session, case_id=case.id, member=by, at=at)


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
    _check_date(next_contact_on, "next_contact_on", at=at, errors=errors)
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


def contacts_of(session: Session, target_id: int) -> list[Contact]:
    return list(
        session.exec(select(Contact).where(Contact.target_id == target_id).order_by(Contact.at))
    )


def last_contact(session: Session, target_id: int) -> Contact | None:
    return session.exec(
        select(Contact)
        .where(Contact.target_id == target_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
    ).first()


def events_of(session: Session, target_id: int) -> list[OutreachEvent]:
    return list(
        session.exec(
            select(OutreachEvent)
            .where(OutreachEvent.target_id == target_id)
            .order_by(OutreachEvent.id)
        )
    )


def _rank(target: OutreachTarget) -> tuple:
    return (STATE_ORDER.index(TargetState(target.state)), target.next_contact_on, target.id)


def targets_for(
    session: Session,
    member: Member,
    *,
    include_ended: bool = False,
    overdue_on: date | None = None,
) -> list[OutreachTarget]:
    """Every target the member may see: active first by next contact date, then paused …
    (`overdue_on`: only the active ones whose contact date is before that day)."""
    if not (
        member.active
        and (member.has(Role.coordinator) or member.has(Role.window) or member.has(Role.support))
    ):
        return []
    # Lists show labels and dates: the person and the reasons are read (decrypted) only when
    # touched, not for every target of a long list.
    query = select(OutreachTarget).options(
        defer(OutreachTarget.person),
        defer(OutreachTarget.reason),
        defer(OutreachTarget.state_reason),
    )
    if not include_ended:
        query = query.where(OutreachTarget.state.in_([s.value for s in OPEN_TARGET_STATES]))
    if overdue_on is not None:
        query = query.where(
            OutreachTarget.state == TargetState.active, OutreachTarget.next_contact_on < overdue_on
        )
    if not member.has(Role.coordinator):
        query = query.join(OutreachWorker, OutreachWorker.target_id == OutreachTarget.id).where(
            OutreachWorker.agency_id == member.agency_id
        )
    return sorted(session.exec(query), key=_rank)


class Due(StrEnum):
    """Where a target's next contact date stands, seen from today."""

    overdue = "overdue"
    today = "today"
    this_week = "this_week"  # by Sunday of this week
    later = "later"
    paused = "paused"
    consented = "consented"
    closed = "closed"


def due_of(target: OutreachTarget, day: date) -> Due:
    if target.state != TargetState.active:
        return Due(target.state)
    if target.next_contact_on < day:
        return Due.overdue
    if target.next_contact_on == day:
        return Due.today
    if target.next_contact_on <= day + timedelta(days=6 - day.weekday()):
        return Due.this_week
    return Due.later


@dataclass(frozen=True)
class TargetLine:
    """A target as a list may show it: the label and coarse facts, never the person."""

    target_id: int
    label: str
    state: str
    due: Due
    reason_kind: str
    cadence_days: int
    next_contact_on: date
    agencies: tuple[str, ...]
    case_number: str | None
    last_contact_on: date | None
    last_outcome: str | None


def lines(session: Session, targets: list[OutreachTarget], *, day: date) -> list[TargetLine]:
    from models.cases.tables import Case

    if not targets:
        return []
    ids = [t.id for t in targets]
    names = {a.id: a.name for a in session.exec(select(Agency))}
    workers: dict[int, list[str]] = {}
    for w in session.exec(
        select(OutreachWorker).where(OutreachWorker.target_id.in_(ids)).order_by(OutreachWorker.id)
    ):
        workers.setdefault(w.target_id, []).append(names.get(w.agency_id, ""))
    case_ids = [t.case_id for t in targets if t.case_id]
    numbers = (
        dict(session.exec(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all())
        if case_ids
        else {}
    )
    # The latest contact of each target, found in SQL (a long list has thousands of contacts);
    # its date and outcome only — a whole contact would decrypt its note. Same time: last id.
    last_at = (
        select(Contact.target_id, func.max(Contact.at).label("at"))
        .where(Contact.target_id.in_(ids))
        .group_by(Contact.target_id)
        .subquery()
    )
    latest: dict[int, tuple[datetime, str]] = {}
    for target_id, at, outcome in session.exec(
        select(Contact.target_id, Contact.at, Contact.outcome)
        .join(last_at, (Contact.target_id == last_at.c.target_id) & (Contact.at == last_at.c.at))
        .order_by(Contact.id)
    ):
        latest[target_id] = (at, outcome)
    return [
        TargetLine(
            target_id=t.id,
            label=t.label,
            state=t.state,
            due=due_of(t, day),
            reason_kind=t.reason_kind,
            cadence_days=t.cadence_days,
            next_contact_on=t.next_contact_on,
            agencies=tuple(workers.get(t.id, ())),
            case_number=numbers.get(t.case_id) if t.case_id else None,
            last_contact_on=today(latest[t.id][0]) if t.id in latest else None,
            last_outcome=latest[t.id][1] if t.id in latest else None,
        )
        for t in targets
    ]


DUE_RANK = {d: i for i, d in enumerate(Due)}


@dataclass(frozen=True)
class ContactLine:
    """One contact, for an entitled member's eyes only (it carries the note)."""

    at: datetime
    method: str
    outcome: str
    by: str | None  # Slack user id
    note: str | None


@dataclass(frozen=True)
class EventLine:
    kind: str
    at: datetime
    by: str | None  # Slack user id
    reason: str | None


@dataclass(frozen=True)
class TargetDetail:
    """The whole target: opened on request by an entitled member; every opening is audited."""

    line: TargetLine
    person: dict
    age_band: str
    reason: str | None
    state_reason: str | None
    created_at: datetime
    created_by: str | None  # Slack user id
    contacts: tuple[ContactLine, ...]  # newest first
    events: tuple[EventLine, ...]  # newest first


def detail(session: Session, target: OutreachTarget, *, now: datetime, limit: int = 10):
    slack_ids = {m.id: m.slack_id for m in session.exec(select(Member))}
    contacts = contacts_of(session, target.id)[-limit:]
    events = events_of(session, target.id)[-limit:]
    return TargetDetail(
        line=lines(session, [target], day=today(now))[0],
        person=dict(target.person or {}),
        age_band=target.age_band,
        reason=target.reason,
        state_reason=target.state_reason,
        created_at=target.created_at,
        created_by=slack_ids.get(target.created_by_id),
        contacts=tuple(
            ContactLine(c.at, c.method, c.outcome, slack_ids.get(c.by_id), c.note)
            for c in reversed(contacts)
        ),
        events=tuple(
            EventLine(e.kind, e.at, slack_ids.get(e.actor_id), e.reason) for e in reversed(events)
        ),
    )


def _most_pressing(session: Session, member: Member, day: date) -> list[OutreachTarget]:
    """The member's open targets (the coordinator: all), most pressing first: ordered by what
    the targets hold, so the lines (contacts, workers) are made only for what is shown."""
    found = targets_for(session, member, include_ended=False)
    return sorted(found, key=lambda t: (DUE_RANK[due_of(t, day)], t.next_contact_on, t.id))


def desk_lines(session: Session, member: Member, *, now: datetime) -> list[TargetLine]:
    """The App Home list: the member's targets (the coordinator: all), most pressing first."""
    day = today(now)
    return lines(session, _most_pressing(session, member, day), day=day)


def overdue_targets(session: Session, member: Member, *, now: datetime) -> list[TargetLine]:
    """desk_lines() of the overdue targets only, chosen in SQL."""
    day = today(now)
    late = targets_for(session, member, overdue_on=day)
    return lines(session, sorted(late, key=lambda t: (t.next_contact_on, t.id)), day=day)


@dataclass(frozen=True)
class DeskSection:
    """The App Home's outreach section of one member (labels and dates only)."""

    page: object  # models.desk.Page of TargetLine
    counts: dict[str, int]  # Due value -> how many (overdue, today, this_week …)
    everyone: bool  # the coordinator's whole list (with each target's state)
    can_create: bool


def desk_section(
    session: Session, member: Member, *, now: datetime, page: int, page_size: int
) -> DeskSection | None:
    """models/desk/desk.py SECTION_SOURCES: the coordinator's whole list, a worker's own targets."""
    from models.desk.desk import paginate

    everyone = member.has(Role.coordinator)
    works = everyone or member.has(Role.window) or member.has(Role.support)
    if not works:
        return None
    day = today(now)
    found = _most_pressing(session, member, day)
    if not found and not everyone and not member.has(Role.window):
        return None  # a support member without targets: nothing to show
    counts: dict[str, int] = {}
    for target in found:
        due = due_of(target, day).value
        counts[due] = counts.get(due, 0) + 1
    shown = paginate(found, page, page_size)
    rows = tuple(lines(session, list(shown.items), day=day))
    return DeskSection(replace(shown, items=rows), counts, everyone, True)


def overdue_items(session: Session, member: Member, now: datetime, deadline_of) -> list:
    """models/desk/desk.py OVERDUE_SOURCES: contacts whose date has passed (label as the number)."""
    from models.desk.desk import OverdueItem

    opening = time(8, 30)  # the usual opening; only shown as the date the contact was due
    return [
        OverdueItem(
            "outreach",
            0,
            line.label,
            datetime.combine(line.next_contact_on, opening, tzinfo=TOKYO),
        )
        for line in overdue_targets(session, member, now=now)
    ]


# --- figures -------------------------------------------------------------------------------------


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


def targets_at_month_ends(session: Session, first: int, last: int) -> dict[tuple[str, int], int]:
    """Targets active / paused at the end of each month first..last (a Link-net stock).

    Replayed from the state changes (OutreachEvent) in two GROUP BY queries — entries into a
    state and exits from it per month; a month's stock is their running sum. Keys are
    (state, month index) as models/linknet/sources.py expects; missing keys mean 0.
    """
    from models.linknet.periods import Month
    from models.linknet.sql import month_index

    end = Month.from_index(last).end
    month = month_index(OutreachEvent.at)
    moves: dict[int, dict[str, int]] = {}
    for column, sign in ((OutreachEvent.to_state, 1), (OutreachEvent.from_state, -1)):
        query = (
            select(column, month, func.count())
            .where(column.is_not(None), OutreachEvent.at < end)
            .group_by(column, month)
        )
        for state, m, n in session.exec(query):
            moves.setdefault(int(m), {}).setdefault(str(state), 0)
            moves[int(m)][str(state)] += sign * int(n)
    running = dict.fromkeys((s.value for s in OPEN_TARGET_STATES), 0)
    out: dict[tuple[str, int], int] = {}
    for m in range(min([*moves, first]), last + 1):
        for state, delta in moves.get(m, {}).items():
            if state in running:
                running[state] += delta
        if m >= first:
            out.update({(s, m): n for s, n in running.items() if n})
    return out
