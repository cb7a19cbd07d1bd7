"""The evaluation of a plan at its review date (評価): how it went, and what follows — a new
plan, going on, closing or suspending the case."""

from __future__ import annotations

from slack_sdk.models.blocks import RadioButtonsElement, SectionBlock
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, option, plain, section
from handlers.common.texts import label, t
from handlers.meetings.documents import day_text
from handlers.meetings.views import modal
from handlers.plans.views import case_facts, field, select_field, text_field
from models.cases.lifecycle import CloseReason
from models.cases.tables import Case
from models.plans.tables import NOTE_LIMIT, Decision, Evaluation, Plan, PlanTask, TaskState


def _radio(block: str, choices, group: str, **kw):
    return field(
        block,
        RadioButtonsElement(
            action_id=ids.VALUE,
            options=[option(t(f"plan.{group}.{c}"), c) for c in choices],
        ),
        **kw,
    )


def evaluation_modal(plan: Plan, case: Case, tasks: list[PlanTask]) -> View:
    done = sum(1 for x in tasks if x.state == TaskState.done)
    intro = t(
        "plan.evaluation_intro",
        number=case.number,
        version=plan.version,
        review=day_text(plan.review_on),
    )
    goals = "\n".join(f"{i}. {g}" for i, g in enumerate(plan.goals, start=1))
    blocks: list = [
        section(intro),
        context(case_facts(case)),
        section(f"*{t('plan.label.goals')}*"),
        SectionBlock(text=plain(goals)),
        context(t("plan.tasks_count", done=done, total=len(tasks))),
        _radio("result", Evaluation, "result"),
        text_field(
            "note", multiline=True, limit=NOTE_LIMIT, optional=True, hint=t("plan.hint.note")
        ),
        _radio("decision", Decision, "decision", hint=t("plan.hint.decision")),
        select_field(
            "close_reason",
            [option(label("close_reason", r), r) for r in CloseReason],
            optional=True,
            hint=t("plan.hint.close_reason"),
        ),
    ]
    return modal(
        ids.VIEW_EVALUATION,
        "plan.title.evaluation",
        blocks,
        submit="plan.submit.evaluation",
        metadata=forms.metadata(plan_id=plan.id),
    )
