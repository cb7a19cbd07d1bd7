"""What waits for a member: the data behind the App Home and `/tsunagi mine`, per role.

- coordinator: memos waiting to be taken (urgency first, how long they waited, their deadline),
  items overdue, cases by state, the open cases, the next meetings;
- window: the memos waiting at its agency, its overdue items, its agency's open cases;
- partner: the memos its agency sent, each with a status word (lifecycle.REFERRER_STATUS);
- support: its tasks; department / admin: no cases.

Receipt numbers and coarse facts only — never a person. Lists are paged (PAGE_SIZE).

Other features' parts: `OVERDUE_SOURCES` (what is late: memos, tasks, reviews, contacts),
`SECTION_SOURCES` (whole sections: outreach), `upcoming_meetings`, `tasks_of`. The desk builds
on those features; none of them imports the desk (its lines are in models/desk/lines.py).
This module never imports reminders/: the caller passes `deadline_of` (layers point down).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.cases.access import Action, case_scope
from models.cases.lifecycle import STATE_ORDER, CaseState
from models.cases.tables import Case
from models.desk.lines import (
    PAGE_SIZE,
    STATE_RANK,
    URGENCY_RANK,
    CaseLine,
    DeadlineOf,
    Desk,
    MeetingItem,
    OverdueItem,
    Page,
    TaskItem,
    Waiting,
    _lines,
    paginate,
    paginate_query,
)
from models.linknet.acks import CaseAckDeadline
from models.meetings import schedule as meetings
from models.meetings.minutes import awaiting_record
from models.org.roster import channel_for
from models.org.tables import Agency, Member, Role
from models.outreach import listing as outreach_listing
from models.plans import listing as plan_listing
from models.plans.listing import due_at, open_task_lines


def _takes_memos(member: Member) -> bool:
    return member.has(Role.coordinator) or member.has(Role.window)


def _waiting_query(query, member: Member):
    """Memos waiting to be taken that this member's team could take."""
    query = query.where(Case.state == CaseState.received)
    if not member.has(Role.coordinator):
        query = query.where(Case.routed_agency_id == member.agency_id)
    return query


# Most urgent first, then the longest waiting: in SQL, so a desk loads one page of memos.
WAITING_ORDER = (
    case({u.value: r for u, r in URGENCY_RANK.items()}, value=Case.urgency, else_=9),
    Case.created_at,
    Case.id,
)


def _stored_deadlines(session: Session, case_ids: list[int]) -> dict[int, datetime]:
    rows = session.exec(
        select(CaseAckDeadline.case_id, CaseAckDeadline.due_at).where(
            CaseAckDeadline.case_id.in_(case_ids)
        )
    )
    return dict(rows.all())


def waiting_page(
    session: Session,
    member: Member,
    *,
    now: datetime,
    deadline_of: DeadlineOf,
    page: int,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the memos this member's team could take, most urgent first, then the
    longest waiting; each with its acknowledgement deadline."""
    if not _takes_memos(member):
        return paginate([], page, size)
    found = paginate_query(
        session, _waiting_query(select(Case), member), order_by=WAITING_ORDER, page=page, size=size
    )
    stored = _stored_deadlines(session, [line.case_id for line in found.items])
    items = []
    for line in found.items:
        # Measured from when the memo was sent, as the reminders do: a reroute does not
        # restart the person's wait.
        due = stored.get(line.case_id) or deadline_of(line.created_at, line.urgency)
        items.append(Waiting(line, now - line.created_at, due, due <= now))
    return Page(tuple(items), found.page, found.pages, found.total)


def _ack_overdue(
    session: Session, member: Member, now: datetime, deadline_of: DeadlineOf
) -> list[OverdueItem]:
    """Waiting memos past their deadline. The deadline recorded for the Link-net figures
    (models/linknet/acks.py: the same rule, fixed when the memo is first counted) is compared
    in SQL; only memos without one are computed, so a desk over years of memos stays fast."""
    if not _takes_memos(member):
        return []
    recorded = _waiting_query(
        select(Case.id, Case.number, CaseAckDeadline.due_at).join(
            CaseAckDeadline, CaseAckDeadline.case_id == Case.id
        ),
        member,
    ).where(CaseAckDeadline.due_at <= now)
    items = [OverdueItem("ack", i, number, due) for i, number, due in session.exec(recorded)]
    computed = _waiting_query(
        select(Case.id, Case.number, Case.created_at, Case.urgency)
        .outerjoin(CaseAckDeadline, CaseAckDeadline.case_id == Case.id)
        .where(CaseAckDeadline.case_id.is_(None)),
        member,
    )
    for case_id, number, created_at, urgency in session.exec(computed):
        due = deadline_of(created_at, urgency)
        if due <= now:
            items.append(OverdueItem("ack", case_id, number, due))
    return items


OverdueSource = Callable[[Session, Member, datetime, DeadlineOf], list[OverdueItem]]
OVERDUE_SOURCES: list[OverdueSource] = [
    _ack_overdue,
    plan_listing.overdue_items,  # tasks past their date, plans past their review
    outreach_listing.overdue_items,  # contacts past their date
]


def overdue(
    session: Session, member: Member, *, now: datetime, deadline_of: DeadlineOf
) -> list[OverdueItem]:
    items = [i for source in OVERDUE_SOURCES for i in source(session, member, now, deadline_of)]
    return sorted(items, key=lambda i: (i.due, i.number))


def upcoming_meetings(session: Session, member: Member, *, now: datetime) -> list[MeetingItem]:
    """Meetings whose outcomes wait to be recorded, then the next さぽネット / たつのまるごと /
    リンクネット meetings (models/meetings/meetings.py)."""

    del member
    found = [(m, True) for m in awaiting_record(session, now=now)]
    found += [(m, False) for m in meetings.next_meetings(session, now=now)]
    return [
        MeetingItem(
            m.kind,
            m.starts_at,
            len(meetings.agenda_cases(session, m.id)),
            meeting_id=m.id,
            awaiting=awaiting,
        )
        for m, awaiting in found
    ]


TASKS_LISTED = 50  # the soonest due; the Home tab shows the first few


def tasks_of(session: Session, member: Member, *, now: datetime) -> list[TaskItem]:
    """The open tasks (役割分担) of the member's agency; for the coordinator, every open task
    (how the plans progress). Soonest due first (models/plans/plans.py)."""
    today = now.astimezone(TOKYO).date()
    agency = None if member.has(Role.coordinator) else member.agency_id
    names = {a.id: a.name for a in session.exec(select(Agency))}
    return [
        TaskItem(
            case_id=x.case_id,
            number=x.number,
            title_code="plan.task_title.overdue" if x.due_on < today else "plan.task_title.open",
            due=due_at(x.due_on),
            task_id=x.task_id,
            overdue=x.due_on < today,
            agency=names.get(x.agency_id),
            notes=x.notes,
        )
        for x in open_task_lines(session, agency_id=agency, limit=TASKS_LISTED)
    ]


def open_cases(session: Session, member: Member) -> list[CaseLine]:
    """The taken, not yet closed cases this member works on, by stage then number."""
    query = select(Case).where(
        case_scope(session, member, Action.view_case_summary),
        Case.state.not_in([CaseState.received, CaseState.closed]),
    )
    cases = sorted(session.exec(query), key=lambda c: (STATE_RANK[c.state], c.id))
    return _lines(session, cases)


def open_cases_page(session: Session, member: Member, *, page: int, size: int) -> Page:
    """open_cases(), one page at a time (by stage, then number). Counted per state first; then
    each state's share of the page is read in number order, which the state index serves, so a
    desk over years of cases reads one page instead of sorting every open case."""
    scope = case_scope(session, member, Action.view_case_summary)
    per_state = dict(
        session.exec(
            select(Case.state, func.count())
            .where(scope, Case.state.not_in([CaseState.received, CaseState.closed]))
            .group_by(Case.state)
        ).all()
    )
    # Stages in order; a state the lifecycle does not know (none today) last, by number.
    groups = [(Case.state == s, per_state[s]) for s in STATE_RANK if s in per_state]
    unknown = sorted(s for s in per_state if s not in STATE_RANK)
    if unknown:
        groups.append((Case.state.in_(unknown), sum(per_state[s] for s in unknown)))
    total = sum(per_state.values())
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    skip, need, rows = page * size, size, []
    for condition, count in groups:
        if skip >= count:
            skip -= count
            continue
        take = min(need, count - skip)
        query = select(Case).where(scope, condition).order_by(Case.id).offset(skip).limit(take)
        rows += session.exec(query)
        skip, need = 0, need - take
        if not need:
            break
    return Page(tuple(_lines(session, rows)), page, pages, total)


def sent_memos_page(session: Session, member: Member, *, page: int, size: int) -> Page:
    query = select(Case).where(Case.referrer_agency_id == member.agency_id)
    order = (Case.created_at.desc(), Case.id.desc())
    return paginate_query(session, query, order_by=order, page=page, size=size)


def counts_by_state(session: Session, member: Member) -> dict[str, int]:
    query = (
        select(Case.state, func.count())
        .where(case_scope(session, member, Action.view_case_summary))
        .group_by(Case.state)
    )
    found = dict(session.exec(query).all())
    return {s.value: found.get(s.value, 0) for s in STATE_ORDER}


def sent_memos(session: Session, member: Member) -> list[CaseLine]:
    """The memos the member's agency sent, newest first (the referrer sees status words only)."""
    query = (
        select(Case)
        .where(Case.referrer_agency_id == member.agency_id)
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    return _lines(session, list(session.exec(query)))


def build(
    session: Session,
    member: Member,
    *,
    now: datetime,
    deadline_of: DeadlineOf,
    pages: dict[str, int] | None = None,
    page_size: int = PAGE_SIZE,
) -> Desk:
    """The desk of one member: a section per role they hold."""
    pages = pages or {}
    values: dict = {}
    sections: list[str] = []
    takes = _takes_memos(member)
    if takes:
        sections += ["waiting", "overdue"]
        values["waiting"] = waiting_page(
            session,
            member,
            now=now,
            deadline_of=deadline_of,
            page=pages.get("waiting", 0),
            size=page_size,
        )
        values["overdue"] = tuple(overdue(session, member, now=now, deadline_of=deadline_of))
    if member.has(Role.coordinator):
        sections += ["by_state", "meetings"]
        values["by_state"] = counts_by_state(session, member)
        values["meetings"] = tuple(upcoming_meetings(session, member, now=now))
    if takes:
        sections.append("cases")
        values["cases"] = open_cases_page(
            session, member, page=pages.get("cases", 0), size=page_size
        )
    if member.has(Role.support) or member.has(Role.coordinator) or member.has(Role.window):
        tasks = tuple(tasks_of(session, member, now=now))
        if tasks or member.has(Role.support) or member.has(Role.coordinator):
            sections.append("tasks")  # a window sees it when its agency holds a task
            values["tasks"] = tasks
    for name, source in SECTION_SOURCES.items():  # other features' sections (outreach …)
        data = source(session, member, now=now, page=pages.get(name, 0), page_size=page_size)
        if data is not None:
            sections.append(name)
            values.setdefault("extra", {})[name] = data
    if member.has(Role.partner):
        sections.append("sent")
        values["sent"] = sent_memos_page(session, member, page=pages.get("sent", 0), size=page_size)
    if member.has(Role.department):
        sections.append("department")
        values["linknet_channel"] = channel_for(session, "linknet")
    if member.has(Role.admin):
        sections.append("admin")
    return Desk(member_id=member.id, roles=tuple(member.roles), sections=tuple(sections), **values)


# --- sections other features add ---------------------------------------------------------------
# name -> fn(session, member, *, now, page, page_size): the section's data, or None when the
# member has no such section. handlers/home/views.py draws it (BUILDERS[name], Desk.extra[name]).
SectionSource = Callable[..., object | None]
SECTION_SOURCES: dict[str, SectionSource] = {"outreach": outreach_listing.desk_section}
