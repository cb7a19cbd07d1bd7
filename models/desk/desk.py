"""What waits for a member: the data behind the App Home and `/tsunagi mine`, per role.

- coordinator: memos waiting to be taken (urgency first, how long they waited, their deadline),
  items overdue, cases by state, the open cases, the next meetings;
- window: the memos waiting at its agency, its overdue items, its agency's open cases;
- partner: the memos its agency sent, each with a status word (lifecycle.REFERRER_STATUS);
- support: its tasks; department / admin: no cases.

Receipt numbers and coarse facts only — never a person. Lists are paged (PAGE_SIZE).

Extension points, filled by later issues without changing the desk:
- `OVERDUE_SOURCES`: functions adding overdue items (reminders: plan reviews, outreach …);
- `SECTION_SOURCES`: whole sections of another feature (outreach: the worker's contacts);
- `upcoming_meetings`: the next meetings (issue 4 adds the meetings table);
- `tasks_of`: a support agency's tasks (issue 5 adds PlanTask).
This module never imports reminders/: the caller passes `deadline_of` (layers point down).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, select

from models.cases.access import Action, case_scope
from models.cases.concerns import Urgency
from models.cases.lifecycle import STATE_ORDER, CaseState, referrer_status
from models.cases.tables import Case
from models.linknet.acks import CaseAckDeadline
from models.org.roster import channel_for
from models.org.tables import Agency, Member, Role

PAGE_SIZE = 8
URGENCY_RANK = {Urgency.urgent: 0, Urgency.three_days: 1, Urgency.normal: 2}
STATE_RANK = {s.value: i for i, s in enumerate(STATE_ORDER)}
DeadlineOf = Callable[[datetime, str], datetime]  # (memo sent at, urgency) -> ack deadline


@dataclass(frozen=True)
class CaseLine:
    case_id: int
    number: str
    state: str
    urgency: str
    domains: tuple[str, ...]
    age_band: str
    created_at: datetime
    since: datetime  # in this state since
    routed_agency: str
    lead_agency: str | None

    @property
    def referrer_status(self) -> str:
        return referrer_status(self.state).value


@dataclass(frozen=True)
class Waiting:
    line: CaseLine
    waited: timedelta
    due: datetime
    overdue: bool


@dataclass(frozen=True)
class Page:
    items: tuple
    page: int  # from 0
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


@dataclass(frozen=True)
class OverdueItem:
    kind: str  # a text key: desk.overdue.<kind>
    case_id: int
    number: str
    due: datetime


@dataclass(frozen=True)
class MeetingItem:
    kind: str  # saponet / marugoto / linknet
    at: datetime
    cases: int
    meeting_id: int | None = None
    awaiting: bool = False  # begun, its outcomes or minutes not recorded yet


@dataclass(frozen=True)
class TaskItem:
    case_id: int
    number: str
    title_code: str
    due: datetime | None
    task_id: int | None = None
    overdue: bool = False
    agency: str | None = None
    notes: int = 0  # progress notes recorded


@dataclass(frozen=True)
class Desk:
    member_id: int
    roles: tuple[str, ...]
    waiting: Page | None = None
    overdue: tuple[OverdueItem, ...] | None = None
    by_state: dict[str, int] | None = None
    cases: Page | None = None
    meetings: tuple[MeetingItem, ...] | None = None
    sent: Page | None = None
    tasks: tuple[TaskItem, ...] | None = None
    linknet_channel: str | None = None
    sections: tuple[str, ...] = field(default=())
    extra: dict = field(default_factory=dict)  # SECTION_SOURCES' data, by section name


def paginate_query(session: Session, query, *, order_by: tuple, page: int, size: int) -> Page:
    """One page of cases counted and cut in SQL: a desk over years of cases loads one page."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    rows = list(session.exec(query.order_by(*order_by).offset(page * size).limit(size)))
    return Page(tuple(_lines(session, rows)), page, pages, total)


def paginate(items: list, page: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return Page(tuple(items[page * size : (page + 1) * size]), page, pages, len(items))


def _lines(session: Session, cases: list[Case]) -> list[CaseLine]:
    names = {a.id: a.name for a in session.exec(select(Agency))}
    return [
        CaseLine(
            case_id=c.id,
            number=c.number,
            state=c.state,
            urgency=c.urgency,
            domains=tuple(c.domains),
            age_band=c.age_band,
            created_at=c.created_at,
            since=c.state_since or c.created_at,
            routed_agency=names.get(c.routed_agency_id, ""),
            lead_agency=names.get(c.lead_agency_id) if c.lead_agency_id else None,
        )
        for c in cases
    ]


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
# Later issues append their sources (plan review dates, outreach follow-ups …).
OVERDUE_SOURCES: list[OverdueSource] = [_ack_overdue]


def overdue(
    session: Session, member: Member, *, now: datetime, deadline_of: DeadlineOf
) -> list[OverdueItem]:
    items = [i for source in OVERDUE_SOURCES for i in source(session, member, now, deadline_of)]
    return sorted(items, key=lambda i: (i.due, i.number))


def upcoming_meetings(session: Session, member: Member, *, now: datetime) -> list[MeetingItem]:
    """Meetings whose outcomes wait to be recorded, then the next さぽネット / たつのまるごと /
    リンクネット meetings (models/meetings/meetings.py)."""
    from models.meetings import schedule as meetings

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
    from models.plans import tasks as plans

    today = now.astimezone(plans.TOKYO).date()
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
SECTION_SOURCES: dict[str, SectionSource] = {}

from models.outreach import outreach as _outreach  # noqa: E402  (builds on the org only, not on the desk)

OVERDUE_SOURCES.append(_outreach.overdue_items)
SECTION_SOURCES["outreach"] = _outreach.desk_section

from models.meetings.minutes import awaiting_record  # noqa: E402
from models.plans.listing import due_at, open_task_lines, overdue_items

OVERDUE_SOURCES.append(overdue_items)
