"""A task (役割) in Slack: its agency (and the coordinator) open it — the view is audited —,
record progress or mark it done."""

from __future__ import annotations

from datetime import datetime

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import deferred, forms, ids
from handlers.common.blocks import notice_modal
from handlers.common.replies import (
    Work,
    act,
    allowed,
    button_value,
    int_or_none,
    open_modal,
    require,
    submit,
)
from handlers.common.texts import t
from handlers.plans.task_views import TaskView, progress_modal, task_modal
from models.base.errors import DomainError
from models.cases.access import Action, decide
from models.cases.tables import Case
from models.org.tables import Agency, Member
from models.plans import tasks as plans
from models.plans.tables import PlanTask, Resource, TaskState
from reminders import plans as plan_reminders


def _task(session, *, at, user: str, task_id, action: Action):
    task = plans.task_or_none(session, task_id)  # None: refused like another agency's task
    case = session.get(Case, task.case_id) if task is not None else None
    member = require(session, at=at, user=user, action=action, case=case, task=task)
    return member, task, case


def _audited(session, *, at, member, action: Action, task: PlanTask, what: str = "") -> None:
    """The task's view or change, in the audit log (`task:<id>[:what]`)."""
    detail = f"task:{task.id}:{what}" if what else f"task:{task.id}"
    allowed(session, at=at, member=member, action=action, case_id=task.case_id, detail=detail)


def _slack_id(session: Session, member_id: int | None) -> str | None:
    member = session.get(Member, member_id) if member_id else None
    return member.slack_id if member else None


def progress_lines(session: Session, task: PlanTask) -> list[tuple[str | None, datetime, str]]:
    """The task's progress notes: (who wrote it, by Slack id; when; the note)."""
    return [
        (
            _slack_id(session, entry.get("by")),
            datetime.fromisoformat(entry["at"]),
            entry.get("note", ""),
        )
        for entry in task.progress or []
    ]


def _task_view(session: Session, member, task: PlanTask, case: Case) -> TaskView:
    agency = session.get(Agency, task.agency_id)
    return TaskView(
        task=task,
        case=case,
        agency=agency.name if agency else "",
        resource=session.get(Resource, task.resource_id) if task.resource_id else None,
        progress=progress_lines(session, task),
        done_by=_slack_id(session, task.done_by_id),
        can_update=bool(decide(session, member, Action.update_task, case, task=task)),
    )


def open_task(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """What a role asks: for the owning agency and the coordinator; the view is audited."""
    ack()
    task_id = int_or_none(button_value(body))

    def build(session, user, now):
        member, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.view_task
        )
        view = _task_view(session, member, task, case)
        _audited(session, at=now, member=member, action=Action.view_task, task=task)
        return task_modal(view)

    open_modal(client, context, body, build)


def task_done(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    # On a channel's message the worker does it: handed over (in memory, no wait) before the ack.
    taken = deferred.take(client, context, body)
    ack()
    if not taken:
        act(client, context, body, task_done_work(int_or_none(button_value(body))))


def task_done_work(task_id: int | None) -> Work[str]:
    def work(session, user, now):
        member, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.update_task
        )
        plans.complete_task(session, task, at=now, by_id=member.id)
        plan_reminders.after_task_closed(session, task, at=now)
        _audited(session, at=now, member=member, action=Action.update_task, task=task, what="done")
        return t("plan.done.done", number=case.number)

    return work


# The clicks on channel messages the worker does (handlers/common/deferred.py).
CLICKS: dict[str, deferred.Builder] = {
    ids.ACTION_TASK_DONE: lambda p: task_done_work(int_or_none(p.get("value"))),
}


def open_progress(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    task_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.update_task
        )
        if task.state != TaskState.open:
            raise DomainError("plan.task_not_open")
        return progress_modal(task, case)

    open_modal(client, context, body, build)


def submit_progress(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    task_id = forms.read_metadata(view.get("private_metadata")).get("task_id")

    def work(session, user, now):
        member, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.update_task
        )
        plans.add_progress(
            session, task, note=forms.value(view, "note") or "", by_id=member.id, at=now
        )
        what = "progress"
        _audited(session, at=now, member=member, action=Action.update_task, task=task, what=what)
        text = t("plan.done.progress", number=case.number)
        return notice_modal(t("meeting.title.done"), text)

    submit(ack, client, context, body, work, title=t("plan.title.progress"), field="note")
