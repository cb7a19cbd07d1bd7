"""A contact logged in a few taps; consent given on a visit moves the person into a case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from models.base.errors import DomainError
from models.cases import memo as intake
from models.cases.casework import post_cards
from models.cases.concerns import ConsentToShare, Urgency
from models.cases.consent import ConsentInput, ConsentInvalid, record
from models.cases.destinations import intake_org
from models.cases.lifecycle import CaseState
from models.cases.memo import refresh_case_messages
from models.cases.records import move
from models.cases.routing import UNKNOWN_DESTINATION
from models.cases.tables import Case
from models.org.roster import channel_for, coordinator_agency, districts
from models.org.tables import Member
from models.outreach.dates import check_date, today
from models.outreach.tables import (
    NOTE_LIMIT,
    OPEN_TARGET_STATES,
    REASON_CONCERN,
    Contact,
    ContactOutcome,
    Method,
    OutreachInvalid,
    OutreachTarget,
    ReasonKind,
    TargetState,
)
from models.outreach.targets import record_event
from models.queues import outbox


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
        check_date(data.next_contact_on, "next_contact_on", at=at, errors=errors)
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
    problems = intake.validate(intake_org(session), memo)
    if problems:  # a value the memo does not accept (too long …): say so, store nothing
        raise OutreachInvalid({"outcome": "outreach.error.case_not_made"})
    case = intake.submit(session, memo=memo, referrer=by, view_id=None, at=at)
    return intake.acknowledge(session, case_id=case.id, member=by, at=at)
