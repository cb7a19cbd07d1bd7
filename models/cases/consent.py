"""本人同意: the person's consent to share information, kept as a history.

Each record says what the person decided (given / refused / unknown / withdrawn), when, how
(口頭 oral / 書面 written), which agencies it covers, and who recorded it. The latest record
is the current consent.

Rules (DESIGN.md → legal rules 2):
- A case goes to the たつのまるごと会議 (marugoto) only with current consent `given`;
  `cases.move()` calls `require_consent` on every move there. Without it the bot says why and
  points to the さぽネット会議 (saponet), which may discuss a case without consent.
- Withdrawing consent moves a case in marugoto / support / evaluation back to saponet: the plan
  was made on consent, and without it only the 支援会議 (saponet, members bound by 守秘義務)
  may keep discussing the case. The coordinator decides there how to go on.
- Once consent is given, the only other record that makes sense is `withdrawn` (or `given`
  again, e.g. to change the agencies it covers); `withdrawn` needs a current `given`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.cases.lifecycle import CONSENT_STATES, STEP_FROM, CaseState, Step
from models.cases.memo import refresh_case_messages
from models.cases.records import move, record_event
from models.cases.tables import Case, ConsentMethod, ConsentRecord, ConsentStatus, current_consent
from models.org.tables import Agency, AgencyKind, Member

NOTE_LIMIT = 500
# Agencies a consent can cover: those that work on cases (not the town-hall departments).
COVERABLE_KINDS = (
    AgencyKind.window,
    AgencyKind.coordinator,
    AgencyKind.support,
    AgencyKind.partner,
)


@dataclass
class ConsentInput:
    status: str = ""
    method: str | None = None
    obtained_on: date | None = None
    agency_ids: list[int] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Recorded:
    record: ConsentRecord
    moved_back_to: CaseState | None  # set when a withdrawal sent the case back


def history(session: Session, case_id: int) -> list[ConsentRecord]:
    """Every consent record of the case, newest first."""
    rows = session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case_id)
        .order_by(ConsentRecord.id.desc())
    )
    return list(rows)


def coverable_agencies(session: Session) -> list[Agency]:
    rows = session.exec(
        select(Agency)
        .where(Agency.active, Agency.kind.in_([k.value for k in COVERABLE_KINDS]))
        .order_by(Agency.position)
    )
    return list(rows)


def validate(session: Session, case: Case, data: ConsentInput, *, today: date) -> dict[str, str]:
    """Field name -> message code for every problem; empty when the record can be stored."""
    errors: dict[str, str] = {}
    if data.status not in ConsentStatus.__members__:
        return {"status": "consent.error.choose_status"}
    status = ConsentStatus(data.status)
    current = current_consent(session, case.id)
    given_now = current is not None and current.status == ConsentStatus.given
    if status is ConsentStatus.withdrawn and not given_now:
        errors["status"] = "consent.error.nothing_to_withdraw"
    elif given_now and status in (ConsentStatus.refused, ConsentStatus.unknown):
        errors["status"] = "consent.error.use_withdrawn"
    if status is not ConsentStatus.unknown:
        if data.method not in ConsentMethod.__members__:
            errors["method"] = "consent.error.choose_method"
        if data.obtained_on is None:
            errors["obtained_on"] = "consent.error.date_required"
    if data.obtained_on is not None and data.obtained_on > today:
        errors["obtained_on"] = "consent.error.future_date"
    if status is ConsentStatus.given:
        allowed = {a.id for a in coverable_agencies(session)}
        if not data.agency_ids:
            errors["agencies"] = "consent.error.agencies_required"
        elif any(a not in allowed for a in data.agency_ids):
            errors["agencies"] = "consent.error.invalid_agency"
    if data.note and len(data.note) > NOTE_LIMIT:
        errors["note"] = "consent.error.note_too_long"
    return errors


def require_step(case: Case) -> None:
    """Consent is recorded once a memo is taken and until the case is closed."""
    if CaseState(case.state) not in STEP_FROM[Step.consent]:
        raise DomainError("consent.not_now", number=case.number)


class ConsentInvalid(DomainError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("consent.invalid")
        self.errors = errors


def record(
    session: Session, *, case: Case, member: Member, data: ConsentInput, at: datetime
) -> Recorded:
    """Store a consent record; a withdrawal moves a case that needed consent back to saponet."""
    require_step(case)
    errors = validate(session, case, data, today=at.astimezone(TOKYO).date())
    if errors:
        raise ConsentInvalid(errors)
    status = ConsentStatus(data.status)
    previous = current_consent(session, case.id)
    was_given = previous is not None and previous.status == ConsentStatus.given
    entry = ConsentRecord(
        case_id=case.id,
        status=status,
        method=data.method if status is not ConsentStatus.unknown else None,
        obtained_on=data.obtained_on,
        agency_ids=sorted(set(data.agency_ids)) if status is ConsentStatus.given else [],
        note=(data.note or "").strip() or None,
        recorded_by_id=member.id,
        recorded_at=at,
    )
    session.add(entry)
    record_event(session, case, kind="consent_recorded", actor_id=member.id, at=at, code=status)
    moved = None
    if was_given and status is not ConsentStatus.given and case.state in CONSENT_STATES:
        move(
            session,
            case,
            CaseState.saponet,
            actor_id=member.id,
            at=at,
            kind="consent_withdrawn",
            code=status,
        )
        moved = CaseState.saponet
    refresh_case_messages(session, case, at)  # the card shows the current consent
    session.flush()
    return Recorded(entry, moved)
