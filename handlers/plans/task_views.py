"""A task (役割) as its agency and the coordinator see it — what it asks, its progress — and
the form for a progress note. Opened on request; the listener audits the view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, SectionBlock
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.meetings.documents import day_text
from handlers.meetings.views import md, modal
from handlers.plans.views import MODAL_BLOCKS, case_facts, task_buttons, text_field
from models.cases.tables import Case
from models.plans.tables import NOTE_LIMIT, PlanTask, Resource, TaskState

PROGRESS_SHOWN = 10


@dataclass(frozen=True)
class TaskView:
    task: PlanTask
    case: Case
    agency: str
    resource: Resource | None
    progress: list[tuple[str | None, datetime, str]]  # (Slack id, when, note)
    done_by: str | None
    can_update: bool


def _progress(v: TaskView) -> list:
    blocks: list = [section(f"*{t('plan.label.progress')}*")]
    if not v.progress:
        blocks.append(context(t("plan.no_progress")))
    for who, at, note in v.progress[-PROGRESS_SHOWN:]:
        blocks.append(context(t("plan.progress_by", user=who or "-", when=when(at))))
        blocks.append(SectionBlock(text=plain(note)))
    return blocks


def task_modal(v: TaskView) -> View:
    task = v.task
    pairs = [
        ("plan.label.case", case_facts(v.case)),
        ("plan.label.agency", escape(v.agency)),
        ("plan.label.due", day_text(task.due_on)),
        ("plan.label.state", t(f"plan.task_state.{task.state}")),
    ]
    blocks: list = [
        SectionBlock(fields=[md(f"*{t(c)}*\n{x}") for c, x in pairs]),
        section(f"*{t('plan.label.what')}*"),
        SectionBlock(text=plain(task.what)),
    ]
    if v.resource is not None:
        kind = label("resource_kind", v.resource.kind)
        blocks.append(context(t("plan.resource_line", name=escape(v.resource.name), kind=kind)))
    blocks += _progress(v)
    if task.state == TaskState.done:
        blocks.append(context(t("plan.done_by", user=v.done_by or "-", when=when(task.done_at))))
    if v.can_update and task.state == TaskState.open:
        blocks.append(
            ActionsBlock(block_id=f"{ids.BLOCK_TASK}{task.id}", elements=task_buttons(task.id))
        )
    blocks.append(context(t("plan.task_privacy")))
    return modal(
        ids.VIEW_MEETING_SHOW,
        "plan.title.task",
        blocks[:MODAL_BLOCKS],
        close="detail.close",
        metadata=forms.metadata(task_id=task.id),
    )


def progress_modal(task: PlanTask, case: Case) -> View:
    blocks = [
        context(case_facts(case) + "　" + t("plan.due_on", due=day_text(task.due_on))),
        text_field("note", multiline=True, limit=NOTE_LIMIT, hint=t("plan.hint.progress")),
    ]
    return modal(
        ids.VIEW_TASK_PROGRESS,
        "plan.title.progress",
        blocks,
        submit="plan.submit.progress",
        metadata=forms.metadata(task_id=task.id),
    )
