"""How outcomes, plans and tasks look: the pieces their forms and messages share, and the Home
section of the tasks. The screens: outcome_views.py (the outcome form), task_views.py (a task,
its progress), evaluation_views.py, resources_views.py; the messages: message_views.py.

A message about a task names the case by its receipt number, the agency and the due date — what
the task asks for is in the modal (opened on request by the owning agency, audited).
"""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    HeaderBlock,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)

from handlers.common import ids
from handlers.common.blocks import context, plain
from handlers.common.mrkdwn import escape
from handlers.common.texts import t
from handlers.meetings.documents import case_facts as coarse_facts
from handlers.meetings.documents import day_text
from handlers.meetings.views import button, labelled_input, md
from models.cases.tables import Case
from models.plans.tables import WHAT_LIMIT

MODAL_BLOCKS = 100
HOME_TASKS = 8


# --- form fields ---------------------------------------------------------------------------------


def field(block: str, element, *, code: str | None = None, optional=False, hint=None, **kw):
    code = code or f"plan.field.{block}"
    return labelled_input(block, code, element, optional=optional, hint=hint, **kw)


def text_field(block: str, *, multiline=False, limit=WHAT_LIMIT, initial: str | None = None, **kw):
    return field(
        block,
        PlainTextInputElement(
            action_id=ids.VALUE,
            multiline=multiline,
            max_length=limit,
            initial_value=initial or None,
        ),
        **kw,
    )


def select_field(block: str, options: list, *, initial: str | None = None, **kw):
    chosen = next((o for o in options if o.value == initial), None)
    return field(
        block,
        StaticSelectElement(action_id=ids.VALUE, options=options[:100], initial_option=chosen),
        **kw,
    )


def date_field(block: str, *, initial: date | None = None, **kw):
    return field(
        block,
        DatePickerElement(
            action_id=ids.VALUE, initial_date=initial.isoformat() if initial else None
        ),
        **kw,
    )


def case_facts(case: Case) -> str:
    """`*R8-0001*　高齢・75歳以上・支援中`"""
    return f"*{case.number}*　{coarse_facts(case)}"


# --- a task's buttons ----------------------------------------------------------------------------


def task_buttons(task_id: int, *, with_open: bool = False) -> list[ButtonElement]:
    """進捗を記録する, 完了にする (confirmed) — and タスクを開く in a message."""
    value = str(task_id)
    buttons = []
    if with_open:
        buttons.append(button("plan.button.open_task", ids.ACTION_TASK_OPEN, value))
    buttons += [
        button("plan.button.progress", ids.ACTION_TASK_PROGRESS, value),
        button(
            "plan.button.done",
            ids.ACTION_TASK_DONE,
            value,
            style="primary",
            confirm=ConfirmObject(
                title=t("plan.done_confirm.title"),
                text=t("plan.done_confirm.text"),
                confirm=t("plan.done_confirm.yes"),
                deny=t("step.cancel"),
            ),
        ),
    ]
    return buttons


# --- Home: the tasks of an agency; for the coordinator, how every plan progresses ---------------


def home_tasks(desk) -> list:
    coordinator = "coordinator" in (desk.roles or ())
    title = "plan.home.title_all" if coordinator else "home.tasks_title"
    blocks: list = [HeaderBlock(text=plain(t(title)))]
    items = list(desk.tasks or ())
    if not items:
        return [*blocks, context(t("home.tasks_none"))]
    for item in items[:HOME_TASKS]:
        due = day_text(item.due.date()) if item.due else "-"
        text = t("plan.home.line", number=item.number, due=due)
        if coordinator and item.agency:
            text += "　" + escape(item.agency)
        if item.notes:
            text += "　" + t("plan.home.notes", n=item.notes)
        if item.overdue:
            text = "⚠️ " + text + "　" + t("plan.home.overdue")
        accessory = None
        if item.task_id is not None:
            accessory = button("home.open", ids.ACTION_TASK_OPEN, str(item.task_id))
        blocks.append(SectionBlock(text=md(text), accessory=accessory))
    if len(items) > HOME_TASKS:
        blocks.append(context(t("plan.home.more", n=len(items) - HOME_TASKS)))
    return blocks
