"""The messages of the plan: a task to its agency (and, once it is no longer open, the same
message updated to say so), the reminders of a task's due date, a plan's review date and an
outcome's check. Each names the case by its receipt number — never what the task asks.
What they show is read at send time by handlers/plans/notices.py."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import ActionsBlock

from handlers.common import ids
from handlers.common.blocks import context, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import t
from handlers.desk.case_views import when
from handlers.meetings.documents import day_text
from handlers.meetings.views import button
from handlers.notices.views import Rendered
from handlers.plans.views import task_buttons
from handlers.reminders.views import ReminderContent
from models.base.clock import TOKYO
from models.cases.tables import Case
from models.plans.tables import Outcome, Plan, PlanTask, TaskState


@dataclass(frozen=True)
class TaskFacts:
    """A task with its case's receipt number and its agency's name (None: gone)."""

    task: PlanTask
    number: str | None
    agency: str | None


def _values(f: TaskFacts) -> dict:
    return {
        "number": f.number if f.number is not None else "-",
        "agency": escape(f.agency) if f.agency is not None else "-",
        "due": day_text(f.task.due_on),
    }


def task_assigned(f: TaskFacts) -> Rendered:
    values = _values(f)
    blocks = [
        section(t("plan.assigned.body", **values)),
        context(t("plan.task_privacy")),
        ActionsBlock(
            block_id=f"{ids.BLOCK_TASK}{f.task.id}",
            elements=task_buttons(f.task.id, with_open=True),
        ),
    ]
    return Rendered(text=t("plan.assigned.text", **values), blocks=[b.to_dict() for b in blocks])


def task_closed(f: TaskFacts, *, update_ts: str | None, channel: str | None) -> Rendered:
    """The task's message, updated: done (on which day) or ended by a new plan; no buttons."""
    task = f.task
    values = {**_values(f), "state": t(f"plan.task_state.{task.state}")}
    blocks = [section(t("plan.closed.body", **values))]
    if task.state == TaskState.done and task.done_at is not None:
        day = day_text(task.done_at.astimezone(TOKYO).date())
        blocks.append(context(t("plan.closed.done_on", day=day)))
    return Rendered(
        text=t("plan.closed.text", **values),
        blocks=[b.to_dict() for b in blocks],
        update_ts=update_ts,
        channel=channel,
    )


def task_reminder(f: TaskFacts, key: str, *, who: str = "") -> ReminderContent:
    """The day a task is due ("due") or past it ("overdue"); once the task is no longer open,
    who ended it and when (`who`: "<@U…>さんが")."""
    values = _values(f)
    subject = t("reminder.subject_of.task", number=values["number"], due=values["due"])
    task, outcome = f.task, None
    if task.state == TaskState.done and task.done_at is not None:
        outcome = t("reminder.outcome.task_done", subject=subject, when=when(task.done_at), who=who)
    elif task.state != TaskState.open:
        state = t(f"plan.task_state.{task.state}")
        at = when(task.done_at) if task.done_at else "-"
        outcome = t("reminder.outcome.task_ended", subject=subject, when=at, state=state)
    return ReminderContent(
        text=t(f"plan.reminder.{key}_text", **values),
        body=t(f"plan.reminder.{key}_body", **values),
        buttons=tuple(task_buttons(f.task.id, with_open=True)),
        subject=subject,
        outcome=outcome,
    )


def plan_review(plan: Plan, case: Case) -> ReminderContent:
    values = {"number": case.number, "version": plan.version, "review": day_text(plan.review_on)}
    return ReminderContent(
        text=t("plan.reminder.review_text", **values),
        body=t("plan.reminder.review_body", **values),
        buttons=(
            button("plan.button.evaluate", ids.ACTION_PLAN_EVALUATE, str(plan.id), "primary"),
        ),
        subject=t("reminder.subject_of.plan", number=case.number, version=plan.version),
    )


def outcome_review(outcome: Outcome, case: Case) -> ReminderContent:
    values = {"number": case.number, "review": day_text(outcome.review_on)}
    return ReminderContent(
        text=t("plan.reminder.check_text", **values),
        body=t("plan.reminder.check_body", **values),
        case_id=case.id,
        subject=t("reminder.subject_of.outcome", number=case.number),
    )
