"""Tasks as the desk lists them: open tasks per member, and what is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.cases.tables import Case
from models.desk.lines import OverdueItem
from models.org.tables import Role
from models.plans.evaluation import reviews_due
from models.plans.tables import (
    DUE_TIME,
    REVIEW_TIME,
    PlanTask,
    TaskState,
)


@dataclass(frozen=True)
class TaskLine:
    """An open task as lists show it: ids, dates and counts — nothing decrypted."""

    task_id: int
    case_id: int
    number: str
    agency_id: int
    due_on: date
    notes: int


def open_task_lines(
    session: Session, *, agency_id: int | None = None, due_before: date | None = None, limit=None
) -> list[TaskLine]:
    """Open tasks (of one agency, or all), soonest due first, in one query."""
    query = (
        select(
            PlanTask.id,
            PlanTask.case_id,
            Case.number,
            PlanTask.agency_id,
            PlanTask.due_on,
            PlanTask.progress_count,
        )
        .join(Case, Case.id == PlanTask.case_id)
        .where(PlanTask.state == TaskState.open)
    )
    if agency_id is not None:
        query = query.where(PlanTask.agency_id == agency_id)
    if due_before is not None:
        query = query.where(PlanTask.due_on < due_before)
    query = query.order_by(PlanTask.due_on, PlanTask.id)
    if limit is not None:
        query = query.limit(limit)
    return [TaskLine(*row) for row in session.exec(query)]


def due_at(day: date, at: time = DUE_TIME) -> datetime:
    return datetime.combine(day, at, tzinfo=TOKYO)


def overdue_items(session: Session, member, now: datetime, deadline_of) -> list:
    """Overdue tasks (the member's agency's; all for the coordinator) and reviews that are due
    (the coordinator's), as the desk's OverdueItem rows."""

    del deadline_of
    today = now.astimezone(TOKYO).date()
    coordinator = member.has(Role.coordinator)
    lines = open_task_lines(
        session, agency_id=None if coordinator else member.agency_id, due_before=today
    )
    items = [OverdueItem("task", x.case_id, x.number, due_at(x.due_on)) for x in lines]
    if coordinator:
        plans = reviews_due(session, on_or_before=today)
        ids = sorted({p.case_id for p in plans})
        # One query for the receipt numbers, not one per plan (hundreds on a large desk).
        numbers = dict(session.exec(select(Case.id, Case.number).where(Case.id.in_(ids))).all())
        for plan in plans:
            due = due_at(plan.review_on, REVIEW_TIME)
            items.append(OverdueItem("review", plan.case_id, numbers[plan.case_id], due))
    return items
