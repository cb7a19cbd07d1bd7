"""Who holds open tasks of a case: the rights table (models/cases/access.py) builds on this."""

from __future__ import annotations

from sqlmodel import Session, select

from models.plans.tables import (
    PlanTask,
    TaskState,
)


def agencies_with_open_tasks(session: Session, case_id: int) -> set[int]:
    rows = session.exec(
        select(PlanTask.agency_id).where(
            PlanTask.case_id == case_id, PlanTask.state == TaskState.open
        )
    )
    return set(rows)


def cases_with_open_tasks(session: Session, agency_id: int) -> set[int]:
    rows = session.exec(
        select(PlanTask.case_id).where(
            PlanTask.agency_id == agency_id, PlanTask.state == TaskState.open
        )
    )
    return set(rows)
