"""Cases and the memos they start from. Personal fields are encrypted; the rest is coarse."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from models.base.errors import DomainError
from models.base.ids import id_or_none
from models.cases.lifecycle import CaseState, can_move, referrer_status
from models.cases.tables import (  # builds on this module
    Case,
    CaseEvent,
    ConsentRecord,
    Referral,
    require_consent,
)
from models.org.tables import Agency, Member


def case_by_id(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise DomainError("case.not_found")
    return case


def case_or_none(session: Session, case_id: object) -> Case | None:
    """The case a button or a form names, or None. A listener hands None to the rights check,
    which refuses it (audited) in the same words as a case the person may not see: what the
    answer says never tells which cases exist."""
    case_id = id_or_none(case_id)
    return session.get(Case, case_id) if case_id is not None else None


NUMBER = re.compile(r"^R\d{1,2}-\d{4,}$")
DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−ーｰ"})


def normalise_number(text: str) -> str | None:
    """`ｒ８－０００１`, `R8ー0001` … → `R8-0001`; None when it is not a receipt number."""
    number = unicodedata.normalize("NFKC", text or "").translate(DASHES).strip().upper()
    return number if NUMBER.match(number) else None


_CASE_BY_NUMBER = select(Case).where(Case.number == bindparam("number"))


def case_by_number(session: Session, number: str) -> Case:
    normal = normalise_number(number)
    case = session.exec(_CASE_BY_NUMBER, params={"number": normal}).first() if normal else None
    if case is None:
        raise DomainError("case.not_found")
    return case


def referral_of(session: Session, case_id: int) -> Referral:
    return session.exec(select(Referral).where(Referral.case_id == case_id)).one()


def move(
    session: Session,
    case: Case,
    target: CaseState,
    *,
    actor_id: int | None,
    at: datetime,
    kind: str = "transition",
    reason: str | None = None,
    code: str | None = None,
    agency_id: int | None = None,
) -> CaseEvent:
    """Move a case to `target`, or refuse with a reason the user sees.

    The one door every state change goes through: it checks the state machine and the
    consent rule (no たつのまるごと会議 without current consent), and records the event.
    """
    current = CaseState(case.state)
    target = CaseState(target)
    if not can_move(current, target):
        raise DomainError("case.transition_refused", frm=current.value, to=target.value)
    if target is CaseState.marugoto:
        # Imported here: models.consent builds on this module.

        require_consent(session, case)
    if target is CaseState.suspended:
        case.suspended_from = current.value
    elif current is CaseState.suspended:
        case.suspended_from = None
    case.state = target
    case.state_since = at
    return record_event(
        session,
        case,
        kind=kind,
        actor_id=actor_id,
        at=at,
        from_state=current,
        to_state=target,
        reason=reason,
        code=code,
        agency_id=agency_id,
    )


def record_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor_id: int | None,
    at: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    code: str | None = None,
    agency_id: int | None = None,
) -> CaseEvent:
    """Write down a change to a case (state or not) and mark its messages as out of date."""
    event = CaseEvent(
        case_id=case.id,
        at=at,
        actor_id=actor_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        code=code,
        agency_id=agency_id,
    )
    case.version += 1
    session.add(case)
    session.add(event)
    return event


def events_of(session: Session, case_id: int) -> list[CaseEvent]:
    rows = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    return list(rows)


@dataclass(frozen=True)
class EventLine:
    """An event as the case's message may show it: what, who, when — no reason text."""

    kind: str
    to_state: str | None
    actor: str | None  # Slack user id
    at: datetime
    agency: str | None


@dataclass(frozen=True)
class CaseSummary:
    """What a Slack message may say about a case: the receipt number and coarse facts only."""

    case_id: int
    number: str
    state: str
    urgency: str
    domains: tuple[str, ...]
    age_band: str
    routed_agency: str
    referrer_agency: str
    consent_to_share: str
    route_reason: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # Slack user id
    version: int
    lead_agency: str | None = None
    state_since: datetime | None = None
    last_event: EventLine | None = None  # what happened last (never the free-text reason)
    consent_status: str | None = None  # the current 本人同意 record's status, if any recorded

    @property
    def referrer_status(self) -> str:
        return referrer_status(self.state).value


@dataclass(frozen=True)
class CaseDetail:
    """The whole memo, for the detail modal of an entitled member (and the audit log)."""

    summary: CaseSummary
    person_name: str | None
    person_kana: str | None
    district: str | None
    contact: str | None
    household: str | None
    narrative: str
    concerns: tuple[str, ...]


def _name_of(column, key, param: str):
    return select(column).where(key == bindparam(param)).scalar_subquery()


# Built once (the statements are the same every time; only the ids change). Columns, not rows:
# a summary shows nothing personal, so nothing encrypted is read (and decrypted) for it. Two
# statements, not one per name: it is drawn for every card, notice and status answer
# (`tsunagi bench`: nine lookups were a third of a status answer's CPU).
_SUMMARY_NAMES = select(
    select(Referral.consent_to_share)
    .where(Referral.case_id == bindparam("case"))
    .scalar_subquery(),
    select(ConsentRecord.status)
    .where(ConsentRecord.case_id == bindparam("case"))
    .order_by(ConsentRecord.id.desc())
    .limit(1)
    .scalar_subquery(),
    _name_of(Member.slack_id, Member.id, "acknowledger"),
    _name_of(Agency.name, Agency.id, "lead"),
    _name_of(Agency.name, Agency.id, "routed"),
    _name_of(Agency.name, Agency.id, "referrer"),
)
_LAST_EVENT = (
    select(CaseEvent.kind, CaseEvent.to_state, Member.slack_id, CaseEvent.at, Agency.name)
    .outerjoin(Member, Member.id == CaseEvent.actor_id)
    .outerjoin(Agency, Agency.id == CaseEvent.agency_id)
    .where(CaseEvent.case_id == bindparam("case"))
    .order_by(CaseEvent.id.desc())
    .limit(1)
)


def summary(session: Session, case: Case) -> CaseSummary:
    names = session.execute(
        _SUMMARY_NAMES,
        {
            "case": case.id,
            "acknowledger": case.acknowledged_by_id,
            "lead": case.lead_agency_id,
            "routed": case.routed_agency_id,
            "referrer": case.referrer_agency_id,
        },
    ).one()
    consent_to_share, consent_status, acknowledged_by, lead, routed, referrer = names
    last = session.execute(_LAST_EVENT, {"case": case.id}).first()
    last_line = None
    if last is not None:
        kind, to_state, actor, at, agency = last
        last_line = EventLine(kind=kind, to_state=to_state, actor=actor, at=at, agency=agency)
    return CaseSummary(
        case_id=case.id,
        number=case.number,
        state=case.state,
        urgency=case.urgency,
        domains=tuple(case.domains),
        age_band=case.age_band,
        routed_agency=routed,
        referrer_agency=referrer,
        consent_to_share=consent_to_share,
        route_reason=case.route_reason,
        created_at=case.created_at,
        acknowledged_at=case.acknowledged_at,
        acknowledged_by=acknowledged_by,
        version=case.version,
        lead_agency=lead,
        state_since=case.state_since or case.created_at,
        last_event=last_line,
        consent_status=consent_status,
    )


def detail(session: Session, case: Case) -> CaseDetail:
    referral = referral_of(session, case.id)
    return CaseDetail(
        summary=summary(session, case),
        person_name=referral.person_name,
        person_kana=referral.person_kana,
        district=referral.district,
        contact=referral.contact,
        household=referral.household,
        narrative=referral.narrative,
        concerns=tuple(referral.concerns),
    )
