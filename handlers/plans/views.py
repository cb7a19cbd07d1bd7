"""How outcomes, plans, tasks and resources look: the outcome form, a task and its progress, the
evaluation, the coordinator's list of participation resources, the task messages and reminders.

A message about a task names the case by its receipt number, the agency and the due date — what
the task asks for is in the modal (opened on request by the owning agency, audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.meetings.documents import case_values, day_text, when_text
from handlers.meetings.views import kind_name
from handlers.notices.views import Obsolete, Rendered, renders
from handlers.reminders.views import ReminderContent, reminder_view
from models.cases.lifecycle import CloseReason
from models.cases.tables import Case
from models.org.tables import Agency, Member
from models.plans.outcomes import NEXT_STEPS
from models.plans.tables import (
    DIRECTION_LIMIT,
    NOTE_LIMIT,
    TASKS_MAX,
    WHAT_LIMIT,
    Decision,
    Evaluation,
    Outcome,
    Plan,
    PlanTask,
    Resource,
    ResourceKind,
    TaskState,
)
from models.queues.tables import Notice, Reminder
from reminders.plans import (
    OUTCOME_REVIEW,
    PLAN_REVIEW,
    TASK_DUE,
    TASK_OVERDUE,
    plan_of,
    task_of,
)

MODAL_BLOCKS = 100
RESOURCES_SHOWN = 40


def _input(block: str, element, *, code: str | None = None, optional=False, hint=None, **kw):
    return InputBlock(
        block_id=block,
        label=plain(t(code or f"plan.field.{block}")),
        element=element,
        optional=optional,
        hint=plain(hint) if hint else None,
        **kw,
    )


def _text(block: str, *, multiline=False, limit=WHAT_LIMIT, initial: str | None = None, **kw):
    return _input(
        block,
        PlainTextInputElement(
            action_id=ids.VALUE,
            multiline=multiline,
            max_length=limit,
            initial_value=initial or None,
        ),
        **kw,
    )


def _select(block: str, options: list, *, initial: str | None = None, **kw):
    chosen = next((o for o in options if o.value == initial), None)
    return _input(
        block,
        StaticSelectElement(action_id=ids.VALUE, options=options[:100], initial_option=chosen),
        **kw,
    )


def _date(block: str, *, initial: date | None = None, **kw):
    return _input(
        block,
        DatePickerElement(
            action_id=ids.VALUE, initial_date=initial.isoformat() if initial else None
        ),
        **kw,
    )


def case_facts(case: Case) -> str:
    v = case_values(case)
    return f"*{v['number']}*　{v['domains']}・{v['age_band']}・{v['state']}"


# --- the outcome form ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeForm:
    meeting_id: int
    meeting_kind: str
    meeting_when: str
    case: Case
    windows: list[Agency]
    task_agencies: list[Agency]
    resources: list[Resource]
    outcome: Outcome | None  # recorded before (the form shows it to correct)
    plan: Plan | None  # the case's current plan (its goals and open tasks as a start)
    tasks: list[PlanTask]
    lead_agency_id: int | None


def outcome_modal(form: OutcomeForm) -> View:
    kind = form.meeting_kind
    o = form.outcome
    blocks: list = [
        section(t("outcome.intro", kind=kind_name(kind), when=form.meeting_when)),
        context(case_facts(form.case)),
        _text(
            "direction",
            multiline=True,
            limit=DIRECTION_LIMIT,
            initial=o.direction if o else None,
            hint=t("outcome.hint.direction"),
        ),
        _select(
            "lead",
            [option(a.name, str(a.id)) for a in form.windows],
            initial=str(form.lead_agency_id) if form.lead_agency_id else None,
            optional=True,
            hint=t("outcome.hint.lead"),
        ),
        _select(
            "next_step",
            [option(t(f"outcome.next_step.{s}"), s) for s in NEXT_STEPS[kind]],
            initial=o.next_step if o else NEXT_STEPS[kind][0],
        ),
        _date(
            "review_on",
            initial=o.review_on if o else (form.plan.review_on if form.plan else None),
            optional=kind != "marugoto",
            hint=t(f"outcome.hint.review_{kind}"),
        ),
    ]
    if kind == "marugoto":
        goals = "\n".join(form.plan.goals) if form.plan else None
        blocks.append(
            _text("goals", multiline=True, limit=1500, initial=goals, hint=t("outcome.hint.goals"))
        )
    blocks.append(section(t(f"outcome.roles_intro_{kind}", most=TASKS_MAX)))
    agencies = [option(a.name, str(a.id)) for a in form.task_agencies]
    resources = [
        option(f"{r.name}（{label('resource_kind', r.kind)}）", str(r.id)) for r in form.resources
    ]
    for i in range(TASKS_MAX):
        task = form.tasks[i] if i < len(form.tasks) else None
        blocks.append(context(t("outcome.role_n", n=i + 1)))
        blocks.append(
            _select(
                f"task_agency_{i}",
                agencies,
                initial=str(task.agency_id) if task else None,
                code="plan.field.task_agency",
                optional=True,
            )
        )
        blocks.append(
            _text(
                f"task_what_{i}",
                initial=task.what if task else None,
                code="plan.field.task_what",
                optional=True,
            )
        )
        blocks.append(
            _date(
                f"task_due_{i}",
                initial=task.due_on if task else None,
                code="plan.field.task_due",
                optional=True,
            )
        )
        if resources:
            blocks.append(
                _select(
                    f"task_resource_{i}",
                    resources,
                    initial=str(task.resource_id) if task and task.resource_id else None,
                    code="plan.field.task_resource",
                    optional=True,
                )
            )
    return View(
        type="modal",
        callback_id=ids.VIEW_OUTCOME,
        private_metadata=forms.metadata(meeting_id=form.meeting_id, case_id=form.case.id),
        title=plain(t("outcome.title")),
        submit=plain(t("outcome.submit")),
        close=plain(t("step.cancel")),
        blocks=blocks[:MODAL_BLOCKS],
    )


# --- a task --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskView:
    task: PlanTask
    case: Case
    agency: str
    resource: Resource | None
    progress: list[tuple[str | None, datetime, str]]  # (Slack id, when, note)
    done_by: str | None
    can_update: bool


def task_buttons(task_id: int, *, with_open: bool = False) -> list[ButtonElement]:
    buttons = []
    if with_open:
        buttons.append(
            ButtonElement(
                text=plain(t("plan.button.open_task")),
                action_id=ids.ACTION_TASK_OPEN,
                value=str(task_id),
            )
        )
    buttons += [
        ButtonElement(
            text=plain(t("plan.button.progress")),
            action_id=ids.ACTION_TASK_PROGRESS,
            value=str(task_id),
        ),
        ButtonElement(
            text=plain(t("plan.button.done")),
            action_id=ids.ACTION_TASK_DONE,
            value=str(task_id),
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


def task_modal(v: TaskView) -> View:
    task = v.task
    pairs = [
        ("plan.label.case", case_facts(v.case)),
        ("plan.label.agency", escape(v.agency)),
        ("plan.label.due", day_text(task.due_on)),
        ("plan.label.state", t(f"plan.task_state.{task.state}")),
    ]
    blocks: list = [
        SectionBlock(fields=[MarkdownTextObject(text=f"*{t(c)}*\n{x}") for c, x in pairs]),
        section(f"*{t('plan.label.what')}*"),
        SectionBlock(text=plain(task.what)),
    ]
    if v.resource is not None:
        blocks.append(
            context(
                t(
                    "plan.resource_line",
                    name=escape(v.resource.name),
                    kind=label("resource_kind", v.resource.kind),
                )
            )
        )
    blocks.append(section(f"*{t('plan.label.progress')}*"))
    if not v.progress:
        blocks.append(context(t("plan.no_progress")))
    for who, at, note in v.progress[-10:]:
        blocks.append(context(t("plan.progress_by", user=who or "-", when=when(at))))
        blocks.append(SectionBlock(text=plain(note)))
    if task.state == TaskState.done:
        blocks.append(context(t("plan.done_by", user=v.done_by or "-", when=when(task.done_at))))
    if v.can_update and task.state == TaskState.open:
        blocks.append(ActionsBlock(block_id=f"task:{task.id}", elements=task_buttons(task.id)))
    blocks.append(context(t("plan.task_privacy")))
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_SHOW,
        private_metadata=forms.metadata(task_id=task.id),
        title=plain(t("plan.title.task")),
        close=plain(t("detail.close")),
        blocks=blocks[:MODAL_BLOCKS],
    )


def progress_modal(task: PlanTask, case: Case) -> View:
    return View(
        type="modal",
        callback_id=ids.VIEW_TASK_PROGRESS,
        private_metadata=forms.metadata(task_id=task.id),
        title=plain(t("plan.title.progress")),
        submit=plain(t("plan.submit.progress")),
        close=plain(t("step.cancel")),
        blocks=[
            context(case_facts(case) + "　" + t("plan.due_on", due=day_text(task.due_on))),
            _text("note", multiline=True, limit=NOTE_LIMIT, hint=t("plan.hint.progress")),
        ],
    )


# --- the evaluation ------------------------------------------------------------------------------


def evaluation_modal(plan: Plan, case: Case, tasks: list[PlanTask]) -> View:
    done = sum(1 for x in tasks if x.state == TaskState.done)
    blocks: list = [
        section(
            t(
                "plan.evaluation_intro",
                number=case.number,
                version=plan.version,
                review=day_text(plan.review_on),
            )
        ),
        context(case_facts(case)),
        section(f"*{t('plan.label.goals')}*"),
        SectionBlock(text=plain("\n".join(f"{i}. {g}" for i, g in enumerate(plan.goals, start=1)))),
        context(t("plan.tasks_count", done=done, total=len(tasks))),
        _input(
            "result",
            RadioButtonsElement(
                action_id=ids.VALUE,
                options=[option(t(f"plan.result.{e}"), e) for e in Evaluation],
            ),
        ),
        _text("note", multiline=True, limit=NOTE_LIMIT, optional=True, hint=t("plan.hint.note")),
        _input(
            "decision",
            RadioButtonsElement(
                action_id=ids.VALUE,
                options=[option(t(f"plan.decision.{d}"), d) for d in Decision],
            ),
            hint=t("plan.hint.decision"),
        ),
        _select(
            "close_reason",
            [option(label("close_reason", r), r) for r in CloseReason],
            optional=True,
            hint=t("plan.hint.close_reason"),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_EVALUATION,
        private_metadata=forms.metadata(plan_id=plan.id),
        title=plain(t("plan.title.evaluation")),
        submit=plain(t("plan.submit.evaluation")),
        close=plain(t("step.cancel")),
        blocks=blocks,
    )


# --- participation resources ---------------------------------------------------------------------


def resources_modal(resources: list[Resource], use: dict[int, int]) -> View:
    blocks: list = [
        section(t("resource.intro")),
        ActionsBlock(
            block_id="resources",
            elements=[
                ButtonElement(
                    text=plain(t("resource.button.add")),
                    action_id=ids.ACTION_RESOURCE_ADD,
                    value="add",
                    style="primary",
                )
            ],
        ),
    ]
    if not resources:
        blocks.append(context(t("resource.none")))
    for r in resources[:RESOURCES_SHOWN]:
        state = "" if r.active else "　" + t("resource.inactive")
        text = t(
            "resource.line",
            name=escape(r.name),
            kind=label("resource_kind", r.kind),
            uses=use.get(r.id, 0),
        )
        if r.description:
            text += "\n" + escape(r.description)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=text + state),
                accessory=ButtonElement(
                    text=plain(
                        t("resource.button.deactivate" if r.active else "resource.button.activate")
                    ),
                    action_id=ids.ACTION_RESOURCE_TOGGLE,
                    value=str(r.id),
                ),
            )
        )
    if len(resources) > RESOURCES_SHOWN:
        blocks.append(context(t("resource.more", n=len(resources) - RESOURCES_SHOWN)))
    return View(
        type="modal",
        callback_id=ids.VIEW_RESOURCES,
        title=plain(t("resource.title")),
        close=plain(t("detail.close")),
        blocks=blocks[:MODAL_BLOCKS],
    )


def resource_add_modal() -> View:
    return View(
        type="modal",
        callback_id=ids.VIEW_RESOURCE_ADD,
        title=plain(t("resource.title_add")),
        submit=plain(t("resource.submit")),
        close=plain(t("step.cancel")),
        blocks=[
            _text("name", limit=200, code="resource.field.name"),
            _select(
                "kind",
                [option(label("resource_kind", k), k) for k in ResourceKind],
                code="resource.field.kind",
            ),
            _text(
                "description",
                multiline=True,
                limit=300,
                optional=True,
                code="resource.field.description",
                hint=t("resource.hint.description"),
            ),
        ],
    )


# --- messages and reminders ----------------------------------------------------------------------


def _task_values(session, task: PlanTask) -> dict:
    case = session.get(Case, task.case_id)
    agency = session.get(Agency, task.agency_id)
    return {
        "number": case.number if case else "-",
        "agency": escape(agency.name) if agency else "-",
        "due": day_text(task.due_on),
    }


@renders("task_assigned")
def _task_assigned(session, notice: Notice, late_due: datetime | None) -> Rendered:
    task = session.get(PlanTask, notice.payload["task_id"])
    if task is None or task.state != TaskState.open:
        raise Obsolete("the task is no longer open")
    values = _task_values(session, task)
    blocks = [
        section(t("plan.assigned.body", **values)),
        context(t("plan.task_privacy")),
        ActionsBlock(block_id=f"task:{task.id}", elements=task_buttons(task.id, with_open=True)),
    ]
    return Rendered(text=t("plan.assigned.text", **values), blocks=[b.to_dict() for b in blocks])


def _task_reminder(session, reminder: Reminder, key: str) -> ReminderContent:
    task = task_of(session, reminder)
    if task is None:
        raise Obsolete("the task is gone")
    values = _task_values(session, task)
    return ReminderContent(
        text=t(f"plan.reminder.{key}_text", **values),
        body=t(f"plan.reminder.{key}_body", **values),
        buttons=tuple(task_buttons(task.id, with_open=True)),
    )


@reminder_view(TASK_DUE)
def _task_due(session, reminder: Reminder) -> ReminderContent:
    return _task_reminder(session, reminder, "due")


@reminder_view(TASK_OVERDUE)
def _task_overdue(session, reminder: Reminder) -> ReminderContent:
    return _task_reminder(session, reminder, "overdue")


@reminder_view(PLAN_REVIEW)
def _plan_review(session, reminder: Reminder) -> ReminderContent:
    plan = plan_of(session, reminder)
    if plan is None:
        raise Obsolete("the plan is gone")
    case = session.get(Case, plan.case_id)
    values = {"number": case.number, "version": plan.version, "review": day_text(plan.review_on)}
    return ReminderContent(
        text=t("plan.reminder.review_text", **values),
        body=t("plan.reminder.review_body", **values),
        buttons=(
            ButtonElement(
                text=plain(t("plan.button.evaluate")),
                action_id=ids.ACTION_PLAN_EVALUATE,
                value=str(plan.id),
                style="primary",
            ),
        ),
    )


@reminder_view(OUTCOME_REVIEW)
def _outcome_review(session, reminder: Reminder) -> ReminderContent:
    outcome = session.get(Outcome, int(reminder.payload.get("outcome_id", 0)))
    if outcome is None:
        raise Obsolete("the outcome is gone")
    case = session.get(Case, outcome.case_id)
    values = {"number": case.number, "review": day_text(outcome.review_on)}
    return ReminderContent(
        text=t("plan.reminder.check_text", **values),
        body=t("plan.reminder.check_body", **values),
        case_id=case.id,
    )


def progress_lines(session, task: PlanTask) -> list[tuple[str | None, datetime, str]]:
    found = []
    for entry in task.progress or []:
        member = session.get(Member, entry.get("by")) if entry.get("by") else None
        found.append(
            (
                member.slack_id if member else None,
                datetime.fromisoformat(entry["at"]),
                entry.get("note", ""),
            )
        )
    return found


def meeting_when(meeting) -> str:
    return when_text(meeting.starts_at, meeting.minutes_long)


# --- Home: the tasks of an agency; for the coordinator, how every plan progresses ---------------

HOME_TASKS = 8


def home_tasks(desk) -> list:
    from slack_sdk.models.blocks import HeaderBlock

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
            accessory = ButtonElement(
                text=plain(t("home.open")), action_id=ids.ACTION_TASK_OPEN, value=str(item.task_id)
            )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text), accessory=accessory))
    if len(items) > HOME_TASKS:
        blocks.append(context(t("plan.home.more", n=len(items) - HOME_TASKS)))
    return blocks
