"""What windows and the coordinator do to a case after intake (受付 is in models/cases/memo.py).

Every function here: checks the member's right (again — handlers check first, to answer and
audit), checks that the step makes sense in the case's state, validates the input, changes the
case through `cases.move`/`cases.record_event` (who, when, why), queues the refresh of the case's
messages and any new message, all in the caller's transaction.

Free text (reasons, notes) is stored encrypted in CaseEvent.reason and never leaves the
database except in the detail modal of an entitled member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from models.base.errors import DomainError, NotAllowed
from models.cases.access import Action, decide
from models.cases.assessment import latest
from models.cases.consent import history
from models.cases.destinations import card_targets
from models.cases.lifecycle import (
    STEP_FROM,
    CaseState,
    CloseReason,
    Step,
    resume_target,
    stages_from,
)
from models.cases.memo import refresh_case_messages
from models.cases.records import events_of, move, record_event
from models.cases.tables import Case
from models.org.roster import coordinator_agency
from models.org.tables import Agency, AgencyKind, Member
from models.queues import outbox

REASON_LIMIT = 500


class InputError(DomainError):
    """Something in the form is missing or wrong: field name -> message code."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("desk.invalid")
        self.errors = errors


def require(session: Session, member: Member | None, action: Action, case: Case) -> None:
    decision = decide(session, member, action, case)
    if not decision:
        raise NotAllowed(decision.reason or "access.not_your_case")


def require_step(case: Case, step: Step) -> None:
    if CaseState(case.state) not in STEP_FROM[step]:
        raise DomainError("desk.not_now", number=case.number, state=case.state)


def _text(value: str | None, field: str, *, required: bool) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InputError({field: "desk.error.reason_required"})
    if len(value) > REASON_LIMIT:
        raise InputError({field: "desk.error.too_long"})
    return value or None


def _window(session: Session, agency_id: int | None, field: str) -> Agency:
    agency = session.get(Agency, agency_id) if agency_id else None
    if agency is None or not agency.active or agency.kind != AgencyKind.window:
        raise InputError({field: "desk.error.choose_window"})
    return agency


def post_cards(session: Session, case: Case, agency: Agency, at: datetime) -> None:
    """A new card for the team of `agency` (after a reroute or an escalation)."""
    for target in card_targets(session, agency):
        outbox.enqueue(
            session,
            key=f"case:{case.id}:card:{agency.id}:{target}:v{case.version}",
            kind="case_card",
            target=target,
            payload={"case_id": case.id},
            at=at,
        )


def tell_referrer(session: Session, case: Case, event: str, at: datetime) -> None:
    """The closed loop: the member who sent the memo hears the receipt number and status."""
    referrer = session.get(Member, case.referrer_id)
    if referrer is None or not referrer.active:
        return
    outbox.enqueue(
        session,
        key=f"case:{case.id}:referrer:{event}",
        kind="referrer_status",
        target=referrer.slack_id,
        payload={"case_id": case.id, "event": event},
        at=at,
    )


def reroute(
    session: Session,
    *,
    case: Case,
    member: Member,
    agency_id: int | None,
    reason: str | None,
    at: datetime,
) -> Agency:
    """つなぎ直し: hand the memo to another window; it waits there to be taken (受付) again."""
    require(session, member, Action.reroute_case, case)
    require_step(case, Step.reroute)
    target = _window(session, agency_id, "agency")
    if target.id == case.routed_agency_id:
        raise InputError({"agency": "desk.error.same_window"})
    text = _text(reason, "reason", required=True)
    if case.state == CaseState.received:
        record_event(
            session,
            case,
            kind="rerouted",
            actor_id=member.id,
            at=at,
            from_state=case.state,
            to_state=case.state,
            reason=text,
            agency_id=target.id,
        )
    else:
        move(
            session,
            case,
            CaseState.received,
            actor_id=member.id,
            at=at,
            kind="rerouted",
            reason=text,
            agency_id=target.id,
        )
    case.routed_agency_id = target.id
    case.state_since = at  # the new window's wait (and its deadline) starts now
    case.route_reason = "rerouted"
    case.acknowledged_at = None
    case.acknowledged_by_id = None
    case.lead_agency_id = None
    session.add(case)
    refresh_case_messages(session, case, at)
    post_cards(session, case, target, at)
    return target


def escalate(
    session: Session, *, case: Case, member: Member, reason: str | None, at: datetime
) -> None:
    """重層推進室へ: the window hands a case that is too complex to the coordinator.

    The case stays routed to the window, so the window keeps seeing it and joins its meetings.
    """
    require(session, member, Action.escalate_case, case)
    require_step(case, Step.escalate)
    text = _text(reason, "reason", required=True)
    coordinator = coordinator_agency(session)
    if coordinator is None:
        raise DomainError("org.not_loaded")
    move(
        session,
        case,
        CaseState.coordination,
        actor_id=member.id,
        at=at,
        kind="escalated",
        reason=text,
        agency_id=coordinator.id,
    )
    refresh_case_messages(session, case, at)
    post_cards(session, case, coordinator, at)


def start_assessment(session: Session, *, case: Case, member: Member, at: datetime) -> None:
    require(session, member, Action.start_assessment, case)
    require_step(case, Step.start_assessment)
    move(session, case, CaseState.assessment, actor_id=member.id, at=at, kind="assessment_started")
    refresh_case_messages(session, case, at)


def advance(
    session: Session,
    *,
    case: Case,
    member: Member,
    stage: str | None,
    note: str | None,
    at: datetime,
) -> CaseState:
    """Move between さぽネット / たつのまるごと / 支援中 / 評価 (the coordinator's decision).

    To たつのまるごと会議 only with current consent: `move` refuses otherwise, and the refusal
    names the さぽネット会議 as the way to go on.
    """
    require(session, member, Action.advance_case, case)
    require_step(case, Step.advance)
    choices = stages_from(case.state)
    if stage not in [s.value for s in choices]:
        raise InputError({"stage": "desk.error.choose_stage"})
    text = _text(note, "note", required=False)
    target = CaseState(stage)
    try:
        move(session, case, target, actor_id=member.id, at=at, kind="advanced", reason=text)
    except DomainError as exc:
        if exc.code.startswith("consent."):
            raise InputError({"stage": exc.code}) from None
        raise
    refresh_case_messages(session, case, at)
    return target


def set_lead(
    session: Session,
    *,
    case: Case,
    member: Member,
    agency_id: int | None,
    reason: str | None,
    at: datetime,
) -> Agency:
    """主担当: set when the さぽネット会議 could not decide; it can change later."""
    require(session, member, Action.set_lead, case)
    require_step(case, Step.set_lead)
    agency = _window(session, agency_id, "agency")
    if agency.id == case.lead_agency_id:
        raise InputError({"agency": "desk.error.same_lead"})
    text = _text(reason, "reason", required=False)
    first = case.lead_agency_id is None
    case.lead_agency_id = agency.id
    record_event(
        session,
        case,
        kind="lead_set" if first else "lead_changed",
        actor_id=member.id,
        at=at,
        reason=text,
        agency_id=agency.id,
    )
    refresh_case_messages(session, case, at)
    if first:
        tell_referrer(session, case, "lead_decided", at)
    return agency


def suspend(
    session: Session, *, case: Case, member: Member, reason: str | None, at: datetime
) -> None:
    require(session, member, Action.suspend_case, case)
    require_step(case, Step.suspend)
    text = _text(reason, "reason", required=True)
    move(
        session, case, CaseState.suspended, actor_id=member.id, at=at, kind="suspended", reason=text
    )
    refresh_case_messages(session, case, at)


def resume(
    session: Session, *, case: Case, member: Member, note: str | None, at: datetime
) -> CaseState:
    """Back to the window that suspended it, otherwise to the coordinator (who re-decides)."""
    require(session, member, Action.resume_case, case)
    require_step(case, Step.resume)
    text = _text(note, "note", required=False)
    target = resume_target(case.suspended_from)
    move(session, case, target, actor_id=member.id, at=at, kind="resumed", reason=text)
    refresh_case_messages(session, case, at)
    return target


def close(
    session: Session,
    *,
    case: Case,
    member: Member,
    reason_code: str | None,
    note: str | None,
    at: datetime,
) -> None:
    """終結: with a reason from the list (a code) and a free note (encrypted)."""
    require(session, member, Action.close_case, case)
    require_step(case, Step.close)
    if reason_code not in CloseReason.__members__:
        raise InputError({"close_reason": "desk.error.choose_close_reason"})
    if reason_code == CloseReason.other and not (note or "").strip():
        raise InputError({"note": "desk.error.note_for_other"})
    text = _text(note, "note", required=False)
    move(
        session,
        case,
        CaseState.closed,
        actor_id=member.id,
        at=at,
        kind="closed",
        code=reason_code,
        reason=text,
    )
    refresh_case_messages(session, case, at)
    tell_referrer(session, case, "closed", at)


# --- what the detail modal shows besides the memo -----------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One event, for an entitled member's eyes only (it carries the free-text reason)."""

    kind: str
    at: datetime
    actor: str | None  # Slack user id
    to_state: str | None
    code: str | None
    agency: str | None
    reason: str | None


@dataclass(frozen=True)
class ConsentLine:
    status: str
    method: str | None
    obtained_on: date | None
    agencies: tuple[str, ...]
    recorded_by: str | None  # Slack user id
    recorded_at: datetime
    note: str | None


@dataclass(frozen=True)
class CaseRecord:
    lead_agency: str | None
    consent: ConsentLine | None
    assessment_version: int | None
    assessment_at: datetime | None
    history: tuple[HistoryLine, ...]


def consent_lines(session: Session, case_id: int, *, limit: int | None = None) -> list[ConsentLine]:

    names = {a.id: a.name for a in session.exec(select(Agency))}
    lines = []
    for entry in history(session, case_id)[:limit]:
        recorder = session.get(Member, entry.recorded_by_id)
        lines.append(
            ConsentLine(
                status=entry.status,
                method=entry.method,
                obtained_on=entry.obtained_on,
                agencies=tuple(names.get(a, "") for a in entry.agency_ids or []),
                recorded_by=recorder.slack_id if recorder else None,
                recorded_at=entry.recorded_at,
                note=entry.note,
            )
        )
    return lines


def case_record(session: Session, case: Case, *, history_limit: int = 10) -> CaseRecord:

    names = {a.id: a.name for a in session.exec(select(Agency))}
    slack_ids = {m.id: m.slack_id for m in session.exec(select(Member))}
    events = events_of(session, case.id)[-history_limit:]
    history = tuple(
        HistoryLine(
            kind=e.kind,
            at=e.at,
            actor=slack_ids.get(e.actor_id),
            to_state=e.to_state,
            code=e.code,
            agency=names.get(e.agency_id) if e.agency_id else None,
            reason=e.reason,
        )
        for e in reversed(events)
    )
    consent = consent_lines(session, case.id, limit=1)
    assessment = latest(session, case.id)
    return CaseRecord(
        lead_agency=names.get(case.lead_agency_id) if case.lead_agency_id else None,
        consent=consent[0] if consent else None,
        assessment_version=assessment.version if assessment else None,
        assessment_at=assessment.recorded_at if assessment else None,
        history=history,
    )
