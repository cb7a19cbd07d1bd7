"""Taking in a つなぎメモ: validate, store with a receipt number, route, queue the notices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from sqlalchemy import bindparam, insert
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.base.numbering import next_numbers
from models.base.prefix import starts_with
from models.cases.concerns import AGE_BANDS, CONCERN_BY_KEY, ConsentToShare, Urgency, domains_of
from models.cases.destinations import Destination, IntakeOrg, intake_org
from models.cases.lifecycle import CaseState
from models.cases.records import case_by_id, move
from models.cases.routing import UNKNOWN_DESTINATION, route
from models.cases.tables import Case, CaseEvent, Referral
from models.ops import audit
from models.org.tables import Agency, Member, Role
from models.queues import outbox, reminders
from models.queues.tables import Notice, ReminderState, Subject, SubjectKind

INVALID = "memo.invalid"  # DomainError code; params["fields"]: field -> message code
KANA = re.compile(r"^[\u3041-\u309F\u30A0-\u30FF\s\u3000・ー]*$")
LIMITS = {
    "person_name": 50,
    "person_kana": 50,
    "contact": 100,
    "household": 1000,
    "narrative": 3000,
}


@dataclass
class MemoInput:
    narrative: str = ""
    concerns: list[str] = field(default_factory=list)
    urgency: str = ""
    consent_to_share: str = ""
    age_band: str = ""
    district: str | None = None
    destination: str | None = None  # a window's agency key, "unknown", or None
    person_name: str | None = None
    person_kana: str | None = None
    contact: str | None = None
    household: str | None = None


def validate(org: IntakeOrg, memo: MemoInput) -> dict[str, str]:
    """Field name -> message code, for every problem. Empty when the memo can be stored."""
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = getattr(memo, name)
        if value is not None and len(value) > limit:
            errors[name] = "memo.error.too_long"
    if not (memo.narrative or "").strip():
        errors["narrative"] = "memo.error.narrative_required"
    if not memo.concerns:
        errors["concerns"] = "memo.error.concerns_required"
    elif any(c not in CONCERN_BY_KEY for c in memo.concerns):
        errors["concerns"] = "memo.error.invalid_choice"
    if memo.urgency not in Urgency.__members__:
        errors["urgency"] = "memo.error.choose_one"
    if memo.consent_to_share not in ConsentToShare.__members__:
        errors["consent_to_share"] = "memo.error.choose_one"
    if memo.age_band not in AGE_BANDS:
        errors["age_band"] = "memo.error.choose_one"
    if memo.district and memo.district not in org.districts:
        errors["district"] = "memo.error.invalid_choice"
    if memo.person_kana and not KANA.match(memo.person_kana):
        errors.setdefault("person_kana", "memo.error.kana_only")
    named = memo.destination and memo.destination != UNKNOWN_DESTINATION
    if named and memo.destination not in {w.key for w in org.windows}:
        errors["destination"] = "memo.error.invalid_choice"
    return errors


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


_CASE_OF_VIEW = select(Referral.case_id).where(Referral.source_view_id == bindparam("view_id"))


def existing_for_view(session: Session, view_id: str) -> Case | None:
    case_id = session.execute(_CASE_OF_VIEW, {"view_id": view_id}).scalar()
    return None if case_id is None else session.get(Case, case_id)


@dataclass(frozen=True)
class Referrer:
    """Who sends a memo: a member's ids, as the roster's in-memory copy knows them. Whether
    they are still an active member is asked again in the transaction that stores the memo."""

    id: int
    agency_id: int
    slack_id: str

    @classmethod
    def of(cls, member: Member) -> Referrer:
        return cls(member.id, member.agency_id, member.slack_id)


@dataclass(frozen=True)
class Routed:
    """A validated memo and where it goes: decided without a query, before anything is written
    (so the write that follows is short: SQLite has one writer and a person is waiting)."""

    memo: MemoInput
    referrer: Referrer
    target: Destination
    reason: str


def route_memo(org: IntakeOrg, *, memo: MemoInput, referrer: Referrer) -> Routed:
    """Validate and route a memo (no query); DomainError(INVALID) with the fields' problems."""
    errors = validate(org, memo)
    if errors:
        raise DomainError(INVALID, fields=errors)
    decision = route(
        concerns=memo.concerns,
        destination=memo.destination,
        windows_by_domain=org.windows_by_domain(),
    )
    if decision.to_coordinator:
        target = org.coordinator
    else:
        target = next(w for w in org.windows if w.key == decision.window_key)
    if target is None:
        raise DomainError("org.not_loaded")
    return Routed(memo, referrer, target, decision.reason.value)


def submit(
    session: Session, *, memo: MemoInput, referrer: Member, view_id: str | None, at: datetime
) -> Case:
    """Store a validated memo as a new case, routed, with its notices queued.

    A second submission of the same Slack view returns the case of the first (no double memo).
    """
    if view_id and (case := existing_for_view(session, view_id)):
        return case
    routed = route_memo(intake_org(session), memo=memo, referrer=Referrer.of(referrer))
    return session.get(Case, store(session, routed, view_id, at=at).id)


def store(
    session: Session,
    routed: Routed,
    view_id: str | None,
    *,
    at: datetime,
    origin_channel: str | None = None,
) -> StoredMemo:
    """Write a routed memo (see store_all). DuplicateSubmission if this view was stored already
    (the transaction is then lost; read the first one in a new one). `origin_channel`: the door's
    channel the memo came from (where the referrer hears back if a DM cannot reach them).
    DomainError("access.not_registered") if the referrer is no longer an active member."""
    [result] = store_all(session, [Submission(routed, view_id, origin_channel)], at=at)
    if result is NotStored.not_registered:
        raise DomainError("access.not_registered")
    return result  # one submission cannot repeat itself


@dataclass(frozen=True)
class Submission:
    """A routed memo to store, with the Slack view it came from and the door's channel."""

    routed: Routed
    view_id: str | None
    origin_channel: str | None = None


class NotStored(Enum):
    not_registered = "access.not_registered"  # the referrer is no longer an active member
    duplicate = "duplicate"  # the same view once more in this call: read the first one after


def store_all(
    session: Session, submissions: Sequence[Submission], *, at: datetime
) -> list[StoredMemo | NotStored]:
    """Write routed memos, each with its receipt number, the memo (encrypted), its first event,
    its audit entry and its notices, and say for each what became of it (in order).

    Several in one transaction when memos arrive together (handlers/intake/writer.py): the
    statements are the same for one memo or ten, so a burst costs little more than one memo.
    DuplicateSubmission if a view was stored by an earlier transaction (this one is then lost;
    store them one by one to find which)."""
    # The roster's copy let them in; the database decides, in the transaction that writes.
    # One plain statement per sender (usually one): a list parameter (IN) is rendered anew on
    # every call, which cost more than the query.
    referrers = {s.routed.referrer.id for s in submissions}
    active = {i for i in referrers if session.execute(_REFERRER_ACTIVE, {"id": i}).scalar()}
    results: list[StoredMemo | NotStored | None] = []
    seen: set[str] = set()
    for s in submissions:
        if s.routed.referrer.id not in active:
            results.append(NotStored.not_registered)
        elif s.view_id is not None and s.view_id in seen:
            results.append(NotStored.duplicate)
        else:
            results.append(None)  # to store
            if s.view_id is not None:
                seen.add(s.view_id)
    todo = [s for s, r in zip(submissions, results, strict=True) if r is None]
    if not todo:
        return results
    numbers = next_numbers(session, at.astimezone(TOKYO).date(), len(todo))
    rows = [_case_row(s, receipt, at) for s, receipt in zip(todo, numbers, strict=True)]
    # Core inserts, not ORM units of work: this runs for every memo, while a person waits.
    ids = session.execute(_INSERT_CASES, rows).scalars().all()
    stored = [
        (s, StoredMemo(case_id, row["number"], row["urgency"], row["routed_agency_id"], at))
        for s, row, case_id in zip(todo, rows, ids, strict=True)
    ]
    try:
        session.execute(_INSERT_REFERRAL, [_referral_row(s, case.id, at) for s, case in stored])
    except IntegrityError:
        # A view stored already, by another request (a retry) in a transaction before this one.
        raise DuplicateSubmission() from None
    session.execute(_INSERT_EVENT, [_event_row(s, case.id, at) for s, case in stored])
    notices = []
    for s, case in stored:
        referrer = s.routed.referrer
        audit.record(
            session,
            at=at,
            actor_slack_id=referrer.slack_id,
            actor_member_id=referrer.id,
            action="memo.submit",
            case_id=case.id,
            allowed=True,
        )
        notices += _memo_notices(case.id, s.routed)
    outbox.enqueue_all(session, notices, at=at)
    done = iter(case for _, case in stored)
    return [next(done) if r is None else r for r in results]


def _case_row(s: Submission, receipt: tuple[int, int, str], at: datetime) -> dict:
    fy, seq, number = receipt
    memo, referrer, target = s.routed.memo, s.routed.referrer, s.routed.target
    return dict(
        number=number,
        fiscal_year=fy,
        seq=seq,
        state=CaseState.received.value,
        domains=[d.value for d in domains_of(memo.concerns)],
        urgency=memo.urgency,
        age_band=memo.age_band,
        routed_agency_id=target.id,
        route_reason=s.routed.reason,
        referrer_id=referrer.id,
        referrer_agency_id=referrer.agency_id,
        created_at=at,
        version=1,
    )


def _referral_row(s: Submission, case_id: int, at: datetime) -> dict:
    memo = s.routed.memo
    return dict(
        case_id=case_id,
        source_view_id=s.view_id,
        concerns=list(dict.fromkeys(memo.concerns)),
        consent_to_share=memo.consent_to_share,
        destination=memo.destination,
        district=_clean(memo.district),
        person_name=_clean(memo.person_name),
        person_kana=_clean(memo.person_kana),
        contact=_clean(memo.contact),
        household=_clean(memo.household),
        narrative=memo.narrative.strip(),
        submitted_at=at,
        origin_channel=s.origin_channel,
    )


def _event_row(s: Submission, case_id: int, at: datetime) -> dict:
    return dict(
        case_id=case_id,
        at=at,
        actor_id=s.routed.referrer.id,
        kind="received",
        to_state=CaseState.received.value,
    )


def _memo_notices(case_id: int, routed: Routed) -> list[dict]:
    """The case's card in each of the routed team's channels, and the referrer's receipt."""
    target = routed.target
    cards = [
        {
            "key": f"case:{case_id}:card:{target.id}:{channel}",
            "kind": "case_card",
            "target": channel,
            "payload": {"case_id": case_id},
        }
        for channel in target.cards
    ]
    receipt = {
        "key": f"case:{case_id}:receipt",
        "kind": "memo_receipt",
        "target": routed.referrer.slack_id,
        "payload": {"case_id": case_id},
    }
    return [*cards, receipt]


# Built once, on the tables (no ORM layer): this runs for every memo (see models/org/roster.py).
# Several cases in one statement, their ids in the order of the rows given.
_INSERT_CASES = insert(Case.__table__).returning(Case.__table__.c.id, sort_by_parameter_order=True)
_INSERT_REFERRAL = insert(Referral.__table__)
_INSERT_EVENT = insert(CaseEvent.__table__)
_MEMBERS = Member.__table__.c
_REFERRER_ACTIVE = core_select(_MEMBERS.active).where(_MEMBERS.id == bindparam("id"))


@dataclass(frozen=True)
class StoredMemo:
    """What the transaction that stored a memo needs of its case, without an ORM object (building
    one cost more than any of the memo's statements): the receipt, the routing, the reminders'
    clock."""

    id: int
    number: str
    urgency: str
    routed_agency_id: int
    created_at: datetime


class DuplicateSubmission(Exception):
    """Another request stored this view's memo first; read it back and answer with it."""


def acknowledge(session: Session, *, case_id: int, member: Member, at: datetime) -> Case:
    """受付: the routed team (or the coordinator) takes the memo."""
    case = case_by_id(session, case_id)
    if case.acknowledged_at is not None:
        raise DomainError("case.already_acknowledged", number=case.number)
    target = CaseState.coordination if member.has(Role.coordinator) else CaseState.window
    agency = session.get(Agency, case.routed_agency_id)
    if agency is not None and agency.kind == "coordinator":
        target = CaseState.coordination
    move(session, case, target, actor_id=member.id, at=at, kind="acknowledged")
    case.acknowledged_at = at
    case.acknowledged_by_id = member.id
    session.add(case)
    refresh_case_messages(session, case, at)
    _retire_ack_reminders(session, case, at)
    referrer = session.get(Member, case.referrer_id)
    if referrer is not None and referrer.active:
        # Keyed by version: after a reroute, the new window's 受付 is news to the referrer too.
        outbox.enqueue(
            session,
            key=f"case:{case.id}:referrer:acknowledged:v{case.version}",
            kind="referrer_update",
            target=referrer.slack_id,
            payload={"case_id": case.id, "event": "acknowledged"},
            at=at,
        )
    return case


def _retire_ack_reminders(session: Session, case: Case, at: datetime) -> None:
    """The reminders already posted about this memo lose their 受付する button: it is taken.

    Before it is taken a case has no reminders but those asking to take it.
    """
    subject = Subject(SubjectKind.case, case.id)
    for reminder in reminders.reminders_of(session, subject, states=[ReminderState.sent.value]):
        reminder.version += 1  # a new version: its message is refreshed even if shown before
        reminder.updated_at = at
        session.add(reminder)
        reminders.refresh_messages(session, reminder=reminder, at=at)


def refresh_case_messages(session: Session, case: Case, at: datetime) -> None:
    """Queue a chat.update of every card of this case, so channels show the current state."""
    # The cards' ids and channels only, queued in one statement: this runs on every 受付.
    cards = session.execute(
        select(Notice.id, Notice.target).where(
            Notice.kind == "case_card", starts_with(Notice.key, f"case:{case.id}:card:")
        )
    ).all()
    refreshes = [
        {
            "key": f"case:{case.id}:refresh:{card_id}:v{case.version}",
            "kind": "case_card_refresh",
            "target": target,
            "payload": {"case_id": case.id, "card_notice_id": card_id},
        }
        for card_id, target in cards
    ]
    if refreshes:
        outbox.enqueue_all(session, refreshes, at=at)
