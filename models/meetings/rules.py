"""The legal rules of the meetings: who may attend, which cases may be on the agenda."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from sqlmodel import Session, select

from models.base.errors import DomainError
from models.cases.access import HANDLER, relations
from models.cases.lifecycle import CaseState
from models.cases.tables import Case, covers
from models.meetings.tables import (
    NOT_YET_FOR_MEETINGS,
    PLACE_LIMIT,
    TOPIC_LIMIT,
    TOPICS_MAX,
    MeetingAttendee,
    MeetingKind,
    bound_by_confidentiality,
)
from models.org.roster import active_members_of
from models.org.tables import Agency, Member, Role

ConsentCheck = Callable[[Session, int], bool]


def expand_attendees(
    session: Session, *, member_ids: Iterable[int], agency_ids: Iterable[int]
) -> list[tuple[Member, int | None]]:
    """Members invited by name, plus every active member of each invited agency."""
    chosen: dict[int, tuple[Member, int | None]] = {}
    for agency_id in agency_ids:
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            raise DomainError("meeting.unknown_agency")
        for member in active_members_of(session, agency_id):
            chosen.setdefault(member.id, (member, agency_id))
    for member_id in member_ids:
        member = session.get(Member, member_id)
        if member is None or not member.active:
            raise DomainError("meeting.unknown_member")
        chosen[member_id] = (member, None)
    return list(chosen.values())


def check_rules(
    session: Session,
    *,
    kind: MeetingKind,
    attendees: list[Member],
    cases: list[Case],
    has_consent: ConsentCheck,
) -> None:
    """Refuse what the law does not allow, with a reason the coordinator sees."""
    if not attendees:
        raise DomainError("meeting.no_attendees")
    if kind is MeetingKind.linknet:
        if cases:
            raise DomainError("meeting.linknet_no_cases")
        return
    closed = [c for c in cases if c.state == CaseState.closed]
    if closed:
        raise DomainError("meeting.case_closed", numbers="、".join(c.number for c in closed))
    at_window = [c for c in cases if c.state in NOT_YET_FOR_MEETINGS]
    if at_window:
        raise DomainError("meeting.case_at_window", numbers="、".join(c.number for c in at_window))
    if kind is MeetingKind.marugoto:
        missing = [c for c in cases if not has_consent(session, c.id)]
        if missing:
            raise DomainError(
                "meeting.marugoto_needs_consent", numbers="、".join(c.number for c in missing)
            )
    check_attendees(session, kind=kind, attendees=attendees, cases=cases)


def check_attendees(
    session: Session, *, kind: MeetingKind, attendees: list[Member], cases: list[Case]
) -> None:
    """The rules on who may attend, given the cases on the agenda (at scheduling, when a case
    is added, when the attendees change)."""
    if not attendees:
        raise DomainError("meeting.no_attendees")
    unbound = [m for m in attendees if not bound_by_confidentiality(m)]
    if kind is MeetingKind.saponet and unbound:
        raise DomainError(
            "meeting.saponet_unbound",
            users=" ".join(f"<@{m.slack_id}>" for m in unbound),
            names="、".join(f"{m.name}さん" for m in unbound),
            member_ids=[m.id for m in unbound],
        )
    if kind is MeetingKind.marugoto:
        outside = not_covered(session, attendees=attendees, cases=cases)
        if outside:
            raise DomainError(
                "meeting.marugoto_not_covered",
                agencies="、".join(
                    f"{name}（{'、'.join(numbers)}）" for name, numbers in outside.items()
                ),
                member_ids=sorted(
                    m.id for m in attendees if session.get(Agency, m.agency_id).name in outside
                ),
            )


def entitled_to_case(session: Session, member: Member, case: Case) -> bool:
    """Whether `member` may hear a case discussed at a たつのまるごと会議: the agency is named in
    the person's current consent, or the member already handles the case (routed window, lead),
    or is the coordinator — the same people models/cases/access.py lets open the case from the
    agenda, so nobody is invited to hear what they could not read."""

    return (
        member.has(Role.coordinator)
        or covers(session, case.id, member.agency_id)
        or bool(relations(session, member, case) & HANDLER)
    )


def not_covered(
    session: Session, *, attendees: list[Member], cases: list[Case]
) -> dict[str, list[str]]:
    """Agency name -> receipt numbers whose consent does not cover an attendee of that agency
    (no personal data: the refusal names only the agency and the receipt number)."""
    outside: dict[int, list[str]] = {}
    for case in cases:
        for member in attendees:
            if entitled_to_case(session, member, case):
                continue
            numbers = outside.setdefault(member.agency_id, [])
            if case.number not in numbers:
                numbers.append(case.number)
    return {session.get(Agency, a).name: numbers for a, numbers in outside.items()}


_RECEIPT = re.compile(r"R\d{1,2}-\d{3,}", re.IGNORECASE)


_OUTREACH = re.compile(r"(?<![A-Z])OT-\d{3,}", re.IGNORECASE)  # an outreach target's label


_PHONE = re.compile(r"(?<!\d)0\d{1,4}-?\d{1,4}-?\d{3,4}(?!\d)")


_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−ーｰ"})


def looks_personal(text: str) -> bool:
    """A receipt number, an outreach label or a phone number: what a Link-net text must never
    carry (each points at a person)."""
    normal = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return bool(_RECEIPT.search(normal) or _OUTREACH.search(normal) or _PHONE.search(normal))


def clean_lines(lines: Iterable[str], *, field: str = "topics") -> list[str]:
    """Link-net topics or notes, one per line: short, few, and with nothing personal."""
    found = [line.strip() for line in lines if line and line.strip()]
    if len(found) > TOPICS_MAX:
        raise DomainError("meeting.too_many_topics", most=TOPICS_MAX, field=field)
    if any(len(line) > TOPIC_LIMIT for line in found):
        raise DomainError("meeting.topic_too_long", most=TOPIC_LIMIT, field=field)
    if any(looks_personal(line) for line in found):
        raise DomainError("meeting.topic_personal", field=field)
    return found


def _place(place: str | None) -> str | None:
    place = (place or "").strip() or None
    if place is not None and len(place) > PLACE_LIMIT:
        raise DomainError("meeting.place_too_long", most=PLACE_LIMIT)
    return place


def attendees(session: Session, meeting_id: int) -> list[Member]:
    rows = session.exec(
        select(Member)
        .join(MeetingAttendee, MeetingAttendee.member_id == Member.id)
        .where(MeetingAttendee.meeting_id == meeting_id)
        .order_by(Member.id)
    )
    return list(rows)
