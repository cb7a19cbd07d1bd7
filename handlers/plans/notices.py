"""The plan's messages and reminders at send time: read from the database (is the task still
open, the plan or outcome still there?), then drawn by handlers/plans/message_views.py.
A message that no longer applies is not sent (Obsolete)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlmodel import Session

from handlers.notices.readers import Renderer, posted
from handlers.notices.views import Obsolete, Rendered
from handlers.plans import message_views
from handlers.plans.message_views import TaskFacts
from handlers.reminders.notices import ContentReader, who_text
from handlers.reminders.views import ReminderContent
from models.cases.tables import Case
from models.org.tables import Agency
from models.plans.tables import TASK_MESSAGE_REFRESH, Outcome, PlanTask, TaskState
from models.queues.tables import Notice, Reminder
from reminders.plans import (
    OUTCOME_REVIEW,
    PLAN_REVIEW,
    TASK_DUE,
    TASK_OVERDUE,
    plan_of,
    task_of,
)


def task_facts(session: Session, task: PlanTask) -> TaskFacts:
    case = session.get(Case, task.case_id)
    agency = session.get(Agency, task.agency_id)
    return TaskFacts(
        task=task,
        number=case.number if case else None,
        agency=agency.name if agency else None,
    )


def _task_assigned(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    task = session.get(PlanTask, notice.payload["task_id"])
    if task is None or task.state != TaskState.open:
        raise Obsolete("the task is no longer open")
    return message_views.task_assigned(task_facts(session, task))


def _task_message_closed(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    """A task's message to its agency once the task is no longer open: updated in place
    (chat.update) to say it is done — or ended by a new plan."""
    message = posted(session, notice.payload["message_notice_id"])
    task = session.get(PlanTask, notice.payload["task_id"])
    if task is None or task.state == TaskState.open:
        raise Obsolete("the task is open: its message stands as it is")
    return message_views.task_closed(
        task_facts(session, task), update_ts=message.result_ts, channel=message.result_channel
    )


def _task_reminder(session: Session, reminder: Reminder, key: str) -> ReminderContent:
    task = task_of(session, reminder)
    if task is None:
        raise Obsolete("the task is gone")
    who = who_text(session, task.done_by_id)
    return message_views.task_reminder(task_facts(session, task), key, who=who)


def _plan_review(session: Session, reminder: Reminder) -> ReminderContent:
    plan = plan_of(session, reminder)
    if plan is None:
        raise Obsolete("the plan is gone")
    return message_views.plan_review(plan, session.get(Case, plan.case_id))


def _outcome_review(session: Session, reminder: Reminder) -> ReminderContent:
    outcome = session.get(Outcome, int(reminder.payload.get("outcome_id", 0)))
    if outcome is None:
        raise Obsolete("the outcome is gone")
    return message_views.outcome_review(outcome, session.get(Case, outcome.case_id))


NOTICES: dict[str, Renderer] = {
    "task_assigned": _task_assigned,
    TASK_MESSAGE_REFRESH: _task_message_closed,
}
REMINDERS: dict[str, ContentReader] = {
    TASK_DUE: partial(_task_reminder, key="due"),
    TASK_OVERDUE: partial(_task_reminder, key="overdue"),
    PLAN_REVIEW: _plan_review,
    OUTCOME_REVIEW: _outcome_review,
}
