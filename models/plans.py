"""Meeting outcomes, the support plan (支援プラン) with its versions and tasks, and the local
participation resources (参加支援) a task can link."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.crypto import EncryptedJSON, EncryptedText
from models.db import UTCDateTime
from models.errors import DomainError


class NextStep(StrEnum):
    outreach_for_consent = "outreach_for_consent"  # build trust until the person agrees
    to_marugoto = "to_marugoto"  # consent obtained: plan at the まるごと会議
    start_support = "start_support"  # the plan runs; monitoring
    continue_support = "continue_support"
    close = "close"


class Evaluation(StrEnum):
    achieved = "achieved"  # 達成
    partly = "partly"  # 一部達成
    not_achieved = "not_achieved"  # 未達成


class TaskState(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Outcome(SQLModel, table=True):
    """What a さぽネット/まるごと meeting agreed for one case."""

    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    direction: str = Field(sa_column=Column(EncryptedText, nullable=False))  # 支援方針
    lead_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    next_step: str = Field(max_length=32)
    review_on: date | None = None  # 次回評価日
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class Plan(SQLModel, table=True):
    """One version of a case's plan; a revision adds a version, never overwrites."""

    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    version: int
    goals: list = Field(sa_column=Column(EncryptedJSON, nullable=False))
    review_on: date
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    current: bool = True
    evaluation: str | None = Field(default=None, max_length=16)
    evaluation_note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    evaluated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PlanTask(SQLModel, table=True):
    """A role assignment (役割分担): which agency does what by when."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    what: str = Field(sa_column=Column(EncryptedText, nullable=False))
    due_on: date
    state: str = Field(default=TaskState.open, max_length=12, index=True)
    progress: list = Field(default_factory=list, sa_column=Column(EncryptedJSON, nullable=False))
    resource_id: int | None = Field(default=None, foreign_key="resource.id")
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Resource(SQLModel, table=True):
    """A local participation resource: 居場所, 就労体験, ボランティア, サロン …"""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    active: bool = True


def record_outcome(
    session: Session,
    *,
    meeting_id: int,
    case_id: int,
    direction: str,
    lead_agency_id: int | None,
    next_step: NextStep,
    review_on: date | None,
    recorded_by_id: int,
    at: datetime,
) -> Outcome:
    if not direction.strip():
        raise DomainError("outcome.direction_required")
    existing = session.exec(
        select(Outcome).where(Outcome.meeting_id == meeting_id, Outcome.case_id == case_id)
    ).first()
    outcome = existing or Outcome(
        meeting_id=meeting_id,
        case_id=case_id,
        direction="",
        next_step=next_step,
        recorded_by_id=recorded_by_id,
        recorded_at=at,
    )
    outcome.direction = direction.strip()
    outcome.lead_agency_id = lead_agency_id
    outcome.next_step = next_step
    outcome.review_on = review_on
    outcome.recorded_by_id = recorded_by_id
    outcome.recorded_at = at
    session.add(outcome)
    return outcome


def current_plan(session: Session, case_id: int) -> Plan | None:
    return session.exec(select(Plan).where(Plan.case_id == case_id, Plan.current)).first()


def make_plan(
    session: Session,
    *,
    case_id: int,
    goals: list[str],
    review_on: date,
    tasks: list[dict],
    created_by_id: int,
    at: datetime,
    meeting_id: int | None = None,
) -> Plan:
    """Create the first plan or a new version; open tasks of the old version are carried over
    only when listed again (the meeting decides the roles anew)."""
    goals = [g.strip() for g in goals if g and g.strip()]
    if not goals:
        raise DomainError("plan.goals_required")
    if review_on <= at.date():
        raise DomainError("plan.review_in_the_past")
    for task in tasks:
        if not task.get("what", "").strip():
            raise DomainError("plan.task_what_required")
    previous = current_plan(session, case_id)
    version = 1
    if previous is not None:
        previous.current = False
        session.add(previous)
        for old in session.exec(
            select(PlanTask).where(PlanTask.plan_id == previous.id, PlanTask.state == "open")
        ):
            old.state = TaskState.cancelled
            session.add(old)
        version = previous.version + 1
    plan = Plan(
        case_id=case_id,
        version=version,
        goals=goals,
        review_on=review_on,
        meeting_id=meeting_id,
        created_by_id=created_by_id,
        created_at=at,
    )
    session.add(plan)
    session.flush()
    for task in tasks:
        session.add(
            PlanTask(
                plan_id=plan.id,
                case_id=case_id,
                agency_id=task["agency_id"],
                what=task["what"].strip(),
                due_on=task["due_on"],
                resource_id=task.get("resource_id"),
            )
        )
    session.flush()
    return plan


def plan_tasks(session: Session, plan_id: int) -> list[PlanTask]:
    return list(session.exec(select(PlanTask).where(PlanTask.plan_id == plan_id)))


def task_by_id(session: Session, task_id: int) -> PlanTask:
    task = session.get(PlanTask, task_id)
    if task is None:
        raise DomainError("plan.task_not_found")
    return task


def complete_task(session: Session, task: PlanTask, *, at: datetime) -> None:
    if task.state != TaskState.open:
        raise DomainError("plan.task_not_open")
    task.state = TaskState.done
    task.done_at = at
    session.add(task)


def add_progress(session: Session, task: PlanTask, *, note: str, by_id: int, at: datetime):
    if not note.strip():
        raise DomainError("plan.progress_required")
    if task.state != TaskState.open:
        raise DomainError("plan.task_not_open")
    task.progress = [*task.progress, {"at": at.isoformat(), "by": by_id, "note": note.strip()}]
    session.add(task)


def evaluate(
    session: Session, plan: Plan, *, result: Evaluation, note: str | None, at: datetime
) -> None:
    if plan.evaluation is not None:
        raise DomainError("plan.already_evaluated")
    plan.evaluation = result
    plan.evaluation_note = (note or "").strip() or None
    plan.evaluated_at = at
    session.add(plan)


def agencies_with_open_tasks(session: Session, case_id: int) -> set[int]:
    rows = session.exec(
        select(PlanTask.agency_id).where(PlanTask.case_id == case_id, PlanTask.state == "open")
    )
    return set(rows)


def resource_use(session: Session, *, since: datetime, until: datetime) -> dict[str, int]:
    """How many plan tasks linked each resource, for the Link-net figures (counts only)."""
    rows = session.exec(
        select(Resource.kind, func.count(PlanTask.id))
        .join(PlanTask, PlanTask.resource_id == Resource.id)
        .join(Plan, Plan.id == PlanTask.plan_id)
        .where(Plan.created_at >= since, Plan.created_at < until)
        .group_by(Resource.kind)
    )
    return dict(rows)
