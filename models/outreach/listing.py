"""Outreach as people see it: the list, one target's detail, the desk's section and what is late."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.cases.tables import Case
from models.desk.lines import OverdueItem, paginate
from models.org.tables import Agency, Member, Role
from models.outreach.dates import today
from models.outreach.tables import (
    OPEN_TARGET_STATES,
    STATE_ORDER,
    Contact,
    OutreachEvent,
    OutreachTarget,
    OutreachWorker,
    TargetState,
)


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
