"""Plans (kept in versions) and their tasks: made from an outcome, done, noted, told to owners."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.base.ids import id_or_none
from models.base.prefix import starts_with
from models.cases.destinations import card_targets
from models.cases.tables import Case
from models.org.tables import Agency
from models.plans.tables import (
    NOTE_LIMIT,
    TASK_MESSAGE,
    TASK_MESSAGE_REFRESH,
    Outcome,
    Plan,
    PlanTask,
    TaskState,
)
from models.queues import outbox
from models.queues import reminders as reminder_store
from models.queues.tables import Notice, Reminder, ReminderState, SubjectKind

# --- outcomes ------------------------------------------------------------------------------------


# --- plans and tasks -----------------------------------------------------------------------------


def current_plan(session: Session, case_id: int) -> Plan | None:
    return session.exec(select(Plan).where(Plan.case_id == case_id, Plan.current)).first()


def plan_versions(session: Session, case_id: int) -> list[Plan]:
    return list(session.exec(select(Plan).where(Plan.case_id == case_id).order_by(Plan.version)))


def plan_by_id(session: Session, plan_id: int | None) -> Plan:
    plan = plan_or_none(session, plan_id)
    if plan is None:
        raise DomainError("plan.not_found")
    return plan


def plan_or_none(session: Session, plan_id: object) -> Plan | None:
    """The plan a button names, or None."""
    plan_id = id_or_none(plan_id)
    return session.get(Plan, plan_id) if plan_id is not None else None


def _add_task(
    session: Session,
    case_id: int,
    task: dict,
    *,
    at: datetime | None,
    plan_id: int | None = None,
    outcome_id: int | None = None,
) -> PlanTask:
    row = PlanTask(
        plan_id=plan_id,
        outcome_id=outcome_id,
        case_id=case_id,
        agency_id=task["agency_id"],
        what=task["what"].strip(),
        due_on=task["due_on"],
        resource_id=task.get("resource_id"),
        created_at=at,
    )
    session.add(row)
    return row


def _cancel(session: Session, tasks: list[PlanTask], *, at: datetime) -> list[PlanTask]:
    for task in tasks:
        task.state = TaskState.cancelled
        session.add(task)
        refresh_task_messages(session, task, at=at)
    retire_task_reminders(session, tasks, at=at)
    return tasks


def open_tasks_of_plan(session: Session, plan_id: int) -> list[PlanTask]:
    return list(
        session.exec(
            select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.state == TaskState.open)
        )
    )


def _open_outcome_tasks(session: Session, outcome_id: int) -> list[PlanTask]:
    return list(
        session.exec(
            select(PlanTask).where(
                PlanTask.outcome_id == outcome_id, PlanTask.state == TaskState.open
            )
        )
    )


def open_tasks_of_case(session: Session, case_id: int) -> list[PlanTask]:
    return list(
        session.exec(
            select(PlanTask)
            .where(PlanTask.case_id == case_id, PlanTask.state == TaskState.open)
            .order_by(PlanTask.due_on, PlanTask.id)
        )
    )


def end_case_tasks(session: Session, case: Case, *, at: datetime) -> list[PlanTask]:
    """The case was closed or suspended: its open tasks end (their messages say so)."""
    return _cancel(session, open_tasks_of_case(session, case.id), at=at)


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
    if review_on <= at.astimezone(TOKYO).date():
        raise DomainError("plan.review_in_the_past")
    for task in tasks:
        if not task.get("what", "").strip():
            raise DomainError("plan.task_what_required")
    previous = current_plan(session, case_id)
    version = 1
    if previous is not None:
        previous.current = False
        session.add(previous)
        _cancel(session, open_tasks_of_plan(session, previous.id), at=at)
        version = previous.version + 1
    session.flush()
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
        _add_task(session, case_id, task, at=at, plan_id=plan.id)
    session.flush()
    return plan


def plan_tasks(session: Session, plan_id: int) -> list[PlanTask]:
    return list(
        session.exec(select(PlanTask).where(PlanTask.plan_id == plan_id).order_by(PlanTask.id))
    )


def tasks_of_outcome(session: Session, outcome: Outcome) -> list[PlanTask]:
    """The roles an outcome assigned: its own (さぽネット) or its plan's (まるごと)."""
    own = list(
        session.exec(
            select(PlanTask)
            .where(PlanTask.outcome_id == outcome.id, PlanTask.state != TaskState.cancelled)
            .order_by(PlanTask.id)
        )
    )
    if own:
        return own
    plan = plan_of_outcome(session, outcome)
    return plan_tasks(session, plan.id) if plan else []


def plan_of_outcome(session: Session, outcome: Outcome) -> Plan | None:
    """The plan an outcome made (its latest version made at that meeting), if any."""
    return session.exec(
        select(Plan)
        .where(Plan.case_id == outcome.case_id, Plan.meeting_id == outcome.meeting_id)
        .order_by(Plan.version.desc())
    ).first()


def task_by_id(session: Session, task_id: int | None) -> PlanTask:
    task = task_or_none(session, task_id)
    if task is None:
        raise DomainError("plan.task_not_found")
    return task


def task_or_none(session: Session, task_id: object) -> PlanTask | None:
    """The task a button names, or None (refused by the rights check in the same words as
    another agency's task)."""
    task_id = id_or_none(task_id)
    return session.get(PlanTask, task_id) if task_id is not None else None


def complete_task(session: Session, task: PlanTask, *, at: datetime, by_id: int | None = None):
    if task.state != TaskState.open:
        raise DomainError("plan.task_not_open")
    task.state = TaskState.done
    task.done_at = at
    task.done_by_id = by_id
    session.add(task)
    refresh_task_messages(session, task, at=at)
    retire_task_reminders(session, [task], at=at)


def add_progress(session: Session, task: PlanTask, *, note: str, by_id: int, at: datetime):
    note = (note or "").strip()
    if not note:
        raise DomainError("plan.progress_required")
    if len(note) > NOTE_LIMIT:
        raise DomainError("plan.progress_too_long", most=NOTE_LIMIT)
    if task.state != TaskState.open:
        raise DomainError("plan.task_not_open")
    task.progress = [*task.progress, {"at": at.isoformat(), "by": by_id, "note": note}]
    task.progress_count = len(task.progress)
    session.add(task)


def tell_task_owner(session: Session, task: PlanTask, *, event: str, at: datetime) -> int:
    """A message to the agency that holds the task: its channel, else each active member."""

    agency = session.get(Agency, task.agency_id)
    if agency is None or not agency.active:
        return 0
    queued = 0
    for target in card_targets(session, agency):
        queued += outbox.enqueue(
            session,
            key=f"task:{task.id}:{event}:{target}",
            kind=TASK_MESSAGE,
            target=target,
            payload={"task_id": task.id},
            at=at,
        )
    return queued


def refresh_task_messages(session: Session, task: PlanTask, *, at: datetime) -> int:
    """Queue a chat.update of every message that told the agency of this task, so a task no
    longer open (done, or ended by a new plan) says so and stops offering its buttons."""
    messages = session.exec(
        select(Notice).where(
            Notice.kind == TASK_MESSAGE, starts_with(Notice.key, f"task:{task.id}:")
        )
    )
    queued = 0
    for message in messages:
        queued += outbox.enqueue(
            session,
            key=f"task:{task.id}:{task.state}:{message.id}",
            kind=TASK_MESSAGE_REFRESH,
            target=message.target,
            payload={"task_id": task.id, "message_notice_id": message.id},
            at=at,
        )
    return queued


def retire_task_reminders(session: Session, tasks: list[PlanTask], *, at: datetime) -> int:
    """Queue a chat.update of the reminders already posted about these tasks (期限が近づいて…),
    so an ended task's reminder says so and stops offering 完了 / 進捗 / 明日また. Those not yet
    sent are the reminder rules' business (cancelled, or dropped at dispatch)."""
    if not tasks:
        return 0
    posted = session.exec(
        select(Reminder).where(
            Reminder.subject_kind == SubjectKind.task.value,
            Reminder.subject_id.in_([str(t.id) for t in tasks]),
            Reminder.state == ReminderState.sent.value,
        )
    ).all()
    queued = 0
    for reminder in posted:
        reminder.version += 1  # a new version: its message is refreshed even if refreshed before
        reminder.updated_at = at
        session.add(reminder)
        queued += reminder_store.refresh_messages(session, reminder=reminder, at=at)
    return queued


# --- who holds tasks (models/cases/access.py) -----------------------------------------------------


# --- participation resources ---------------------------------------------------------------------


# --- the desk (models/desk/desk.py): tasks and reviews that are late ------------------------------
