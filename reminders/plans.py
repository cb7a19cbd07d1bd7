"""Reminders of the support plan: tasks before their due date and when overdue, the plan's
review date, and the next check of a さぽネット会議's case.

  - task_due      — to the task's agency, the business day before the due date, at opening;
  - task_overdue  — to the task's agency, the business day after the due date, at opening;
  - plan_review   — to the coordinator, on the review date (次回評価日), at opening;
  - outcome_review — to the coordinator, on the next review date a さぽネット会議 set.
Each checks at dispatch that it still applies (the task is open, the plan not yet evaluated,
the case not closed or suspended); done tasks and replaced plans cancel theirs at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.cases.lifecycle import OPEN_STATES, CaseState
from models.cases.tables import Case
from models.org.roster import coordinator_agency
from models.plans.evaluation import EvaluationResult
from models.plans.outcomes import OutcomeResult
from models.plans.tables import Outcome, Plan, PlanTask, TaskState
from models.queues.reminders import retire_sent
from models.queues.tables import Recipient, Subject, SubjectKind
from reminders.calendar import BusinessCalendar
from reminders.deadlines import calendar_for
from reminders.rules import DETAIL, SNOOZE_TOMORROW, Rule, register
from reminders.schedule import cancel_reminders, schedule_reminder

TASK_DUE = "task_due"
TASK_OVERDUE = "task_overdue"
PLAN_REVIEW = "plan_review"
OUTCOME_REVIEW = "outcome_review"


def _get(session: Session, model, reminder, kind: SubjectKind):
    if reminder.subject_kind != kind:
        return None
    try:
        return session.get(model, int(reminder.subject_id))
    except ValueError:
        return None


def task_of(session: Session, reminder) -> PlanTask | None:
    return _get(session, PlanTask, reminder, SubjectKind.task)


def plan_of(session: Session, reminder) -> Plan | None:
    return _get(session, Plan, reminder, SubjectKind.plan)


def _case_open(session: Session, case_id: int) -> bool:
    case = session.get(Case, case_id)
    return case is not None and CaseState(case.state) in OPEN_STATES


def task_still_open(session: Session, reminder) -> bool:
    task = task_of(session, reminder)
    return task is not None and task.state == TaskState.open and _case_open(session, task.case_id)


def plan_awaits_review(session: Session, reminder) -> bool:
    plan = plan_of(session, reminder)
    return (
        plan is not None
        and plan.current
        and plan.evaluation is None
        and _case_open(session, plan.case_id)
    )


def outcome_review_applies(session: Session, reminder) -> bool:
    if reminder.subject_kind != SubjectKind.case:
        return False
    outcome = session.get(Outcome, int(reminder.payload.get("outcome_id", 0)))
    return (
        outcome is not None
        and outcome.version == reminder.payload.get("version")
        and _case_open(session, outcome.case_id)
    )


# The task buttons (完了 / 進捗) and 評価する come with the views (handlers/plans/message_views.py).
register(Rule(TASK_DUE, applies=task_still_open, actions=(SNOOZE_TOMORROW,)))
register(Rule(TASK_OVERDUE, applies=task_still_open, actions=(SNOOZE_TOMORROW,)))
register(Rule(PLAN_REVIEW, applies=plan_awaits_review, actions=(SNOOZE_TOMORROW,)))
register(Rule(OUTCOME_REVIEW, applies=outcome_review_applies, actions=(DETAIL, SNOOZE_TOMORROW)))


def _opening(cal: BusinessCalendar, day) -> datetime:
    return datetime.combine(day, cal.opens, tzinfo=cal.tz)


def task_times(cal: BusinessCalendar, task: PlanTask) -> dict[str, datetime]:
    return {
        TASK_DUE: _opening(cal, cal.previous_business_day(task.due_on)),
        TASK_OVERDUE: _opening(cal, cal.next_business_day(task.due_on)),
    }


def schedule_task_reminders(session: Session, task: PlanTask, *, at: datetime) -> list:
    cal = calendar_for(session)
    made = []
    for rule, due in task_times(cal, task).items():
        if due <= at:
            continue
        made.append(
            schedule_reminder(
                session,
                key=f"task:{task.id}:{rule}",
                subject=Subject(SubjectKind.task, task.id),
                rule=rule,
                recipient=Recipient.agency(task.agency_id),
                due_at=due,
                at=at,
                payload={"task_id": task.id},
                calendar=cal,
            )
        )
    return made


def cancel_task_reminders(session: Session, tasks: list[PlanTask], *, at: datetime) -> int:
    return sum(
        cancel_reminders(session, subject=Subject(SubjectKind.task, t.id), at=at, reason="task")
        for t in tasks
    )


def _coordinator(session: Session) -> Recipient | None:
    agency = coordinator_agency(session)
    return Recipient.agency(agency.id) if agency is not None else None


def schedule_plan_review(session: Session, plan: Plan, *, at: datetime):
    recipient = _coordinator(session)
    if recipient is None:
        return None
    cal = calendar_for(session)
    return schedule_reminder(
        session,
        key=f"plan:{plan.id}:review",
        subject=Subject(SubjectKind.plan, plan.id),
        rule=PLAN_REVIEW,
        recipient=recipient,
        due_at=max(_opening(cal, plan.review_on), at),
        at=at,
        payload={"plan_id": plan.id, "case_id": plan.case_id},
        calendar=cal,
    )


def after_outcome(session: Session, result: OutcomeResult, *, at: datetime) -> None:
    """In the transaction that recorded the outcome: the reminders follow the new roles."""
    cancel_task_reminders(session, result.cancelled_tasks, at=at)
    for task in result.new_tasks:
        schedule_task_reminders(session, task, at=at)
    outcome = result.outcome
    case_subject = Subject(SubjectKind.case, outcome.case_id)
    cancel_reminders(
        session, subject=case_subject, at=at, reason="new_outcome", rule=OUTCOME_REVIEW
    )
    if result.plan is not None:
        schedule_plan_review(session, result.plan, at=at)
    elif outcome.review_on is not None and (recipient := _coordinator(session)) is not None:
        cal = calendar_for(session)
        schedule_reminder(
            session,
            key=f"outcome:{outcome.id}:review:v{outcome.version}",
            subject=case_subject,
            rule=OUTCOME_REVIEW,
            recipient=recipient,
            due_at=max(_opening(cal, outcome.review_on), at),
            at=at,
            payload={"outcome_id": outcome.id, "version": outcome.version},
            calendar=cal,
        )


def after_task_closed(session: Session, task: PlanTask, *, at: datetime) -> int:
    return cancel_task_reminders(session, [task], at=at)


def after_evaluation(
    session: Session,
    plan: Plan,
    result: EvaluationResult,
    *,
    at: datetime,
    by_member_id: int | None = None,
) -> None:
    """Pending reminders of the plan are cancelled; those already posted say who evaluated it."""
    subject = Subject(SubjectKind.plan, plan.id)
    retire_sent(session, subject=subject, event="plan_evaluated", at=at, by_member_id=by_member_id)
    cancel_reminders(session, subject=subject, at=at, reason="evaluated")
    cancel_task_reminders(session, result.cancelled_tasks, at=at)
