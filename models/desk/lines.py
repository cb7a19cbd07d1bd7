"""The lines of a member's desk (plain data for the views) and paging them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from models.cases.concerns import Urgency
from models.cases.lifecycle import STATE_ORDER, referrer_status
from models.cases.tables import Case
from models.org.tables import Agency

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
