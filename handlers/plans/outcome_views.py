"""The outcome form: what a さぽネット/まるごと meeting agreed for one case — the direction, the
lead agency, the next step and review date, the plan's goals (まるごと) and the roles."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, option, section
from handlers.common.texts import label, t
from handlers.meetings.views import kind_name, modal
from handlers.plans.views import MODAL_BLOCKS, case_facts, date_field, select_field, text_field
from models.cases.tables import Case
from models.org.tables import Agency
from models.plans.outcomes import NEXT_STEPS
from models.plans.tables import DIRECTION_LIMIT, TASKS_MAX, Outcome, Plan, PlanTask, Resource


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


def _agreed(form: OutcomeForm) -> list:
    """The direction, the lead, the next step, the review date (and a plan's goals)."""
    kind, o = form.meeting_kind, form.outcome
    blocks: list = [
        text_field(
            "direction",
            multiline=True,
            limit=DIRECTION_LIMIT,
            initial=o.direction if o else None,
            hint=t("outcome.hint.direction"),
        ),
        select_field(
            "lead",
            [option(a.name, str(a.id)) for a in form.windows],
            initial=str(form.lead_agency_id) if form.lead_agency_id else None,
            optional=True,
            hint=t("outcome.hint.lead"),
        ),
        select_field(
            "next_step",
            [option(t(f"outcome.next_step.{s}"), s) for s in NEXT_STEPS[kind]],
            initial=o.next_step if o else NEXT_STEPS[kind][0],
        ),
        date_field(
            "review_on",
            initial=o.review_on if o else (form.plan.review_on if form.plan else None),
            optional=kind != "marugoto",
            hint=t(f"outcome.hint.review_{kind}"),
        ),
    ]
    if kind == "marugoto":
        goals = "\n".join(form.plan.goals) if form.plan else None
        blocks.append(
            text_field(
                "goals", multiline=True, limit=1500, initial=goals, hint=t("outcome.hint.goals")
            )
        )
    return blocks


def _role(i: int, task: PlanTask | None, agencies: list, resources: list) -> list:
    """Role n: the agency, what it does, by when, with which participation resource."""
    blocks: list = [
        context(t("outcome.role_n", n=i + 1)),
        select_field(
            f"task_agency_{i}",
            agencies,
            initial=str(task.agency_id) if task else None,
            code="plan.field.task_agency",
            optional=True,
        ),
        text_field(
            f"task_what_{i}",
            initial=task.what if task else None,
            code="plan.field.task_what",
            optional=True,
        ),
        date_field(
            f"task_due_{i}",
            initial=task.due_on if task else None,
            code="plan.field.task_due",
            optional=True,
        ),
    ]
    if resources:
        blocks.append(
            select_field(
                f"task_resource_{i}",
                resources,
                initial=str(task.resource_id) if task and task.resource_id else None,
                code="plan.field.task_resource",
                optional=True,
            )
        )
    return blocks


def outcome_modal(form: OutcomeForm) -> View:
    kind = form.meeting_kind
    blocks: list = [
        section(t("outcome.intro", kind=kind_name(kind), when=form.meeting_when)),
        context(case_facts(form.case)),
        *_agreed(form),
        section(t(f"outcome.roles_intro_{kind}", most=TASKS_MAX)),
    ]
    agencies = [option(a.name, str(a.id)) for a in form.task_agencies]
    resources = [
        option(f"{r.name}（{label('resource_kind', r.kind)}）", str(r.id)) for r in form.resources
    ]
    for i in range(TASKS_MAX):
        task = form.tasks[i] if i < len(form.tasks) else None
        blocks += _role(i, task, agencies, resources)
    return modal(
        ids.VIEW_OUTCOME,
        "outcome.title",
        blocks[:MODAL_BLOCKS],
        submit="outcome.submit",
        metadata=forms.metadata(meeting_id=form.meeting_id, case_id=form.case.id),
    )
