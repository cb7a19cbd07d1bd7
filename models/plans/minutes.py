"""What a case meeting's minutes record: per case, the outcome agreed, the plan's goals and the
roles — read as plain data for the minutes template (handlers/meetings/documents.py).

An outcome erased with its case (models/ops/erasure) keeps its receipt number and coarse facts;
its texts are blank, so its entry says only that it was erased (no goals, no roles).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session, select

from models.cases.tables import Case
from models.org.tables import Agency
from models.plans.outcomes import outcomes_of
from models.plans.tables import Outcome, Resource
from models.plans.tasks import plan_of_outcome, tasks_of_outcome


@dataclass(frozen=True)
class RoleEntry:
    agency: str  # the agency's name ("" if it is gone)
    what: str
    due_on: date
    resource: str | None  # the participation resource's name


@dataclass(frozen=True)
class OutcomeEntry:
    case: Case
    direction: str
    lead: str | None  # the lead agency's name
    next_step: str
    review_on: date | None
    erased: bool
    goals: tuple[str, ...] = ()
    plan_version: int | None = None
    roles: tuple[RoleEntry, ...] = ()


def outcome_entries(session: Session, meeting_id: int) -> list[OutcomeEntry]:
    """The outcomes recorded at the meeting, in the order they were recorded."""
    outcomes = outcomes_of(session, meeting_id)
    names = {a.id: a.name for a in session.exec(select(Agency))} if outcomes else {}
    return [_entry(session, o, names) for o in outcomes]


def _entry(session: Session, outcome: Outcome, names: dict[int, str]) -> OutcomeEntry:
    entry = OutcomeEntry(
        case=session.get(Case, outcome.case_id),
        direction=outcome.direction,
        lead=names.get(outcome.lead_agency_id) if outcome.lead_agency_id else None,
        next_step=outcome.next_step,
        review_on=outcome.review_on,
        # A direction is required on entry, so a blank one was erased.
        erased=not outcome.direction,
    )
    if entry.erased:
        return entry
    plan = plan_of_outcome(session, outcome)
    roles = []
    for task in tasks_of_outcome(session, outcome):
        resource = session.get(Resource, task.resource_id) if task.resource_id else None
        roles.append(
            RoleEntry(
                agency=names.get(task.agency_id, ""),
                what=task.what,
                due_on=task.due_on,
                resource=resource.name if resource else None,
            )
        )
    return replace(
        entry,
        goals=tuple(plan.goals) if plan else (),
        plan_version=plan.version if plan else None,
        roles=tuple(roles),
    )
