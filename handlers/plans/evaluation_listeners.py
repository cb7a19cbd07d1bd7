"""The evaluation of a plan at its review date (from its reminder, 評価する): the coordinator
records how it went and decides what follows."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from handlers.common import forms
from handlers.common.blocks import notice_modal
from handlers.common.replies import allowed, button_value, int_or_none, open_modal, require, submit
from handlers.common.texts import t
from handlers.plans.evaluation_views import evaluation_modal
from models.base.errors import DomainError
from models.cases.access import Action
from models.cases.tables import Case
from models.plans import tasks as plans
from models.plans.evaluation import evaluate_and_decide
from reminders import plans as plan_reminders


def _plan(session, *, at, user: str, plan_id):
    plan = plans.plan_or_none(session, plan_id)
    case = session.get(Case, plan.case_id) if plan is not None else None
    # Anyone but the coordinator is refused (audited) whether the plan exists or not.
    member = require(session, at=at, user=user, action=Action.evaluate_plan, case=case)
    if plan is None:
        raise DomainError("plan.not_found")  # the coordinator, who sees every plan
    return member, plan, case


def open_evaluation(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    plan_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, plan, case = _plan(session, at=now, user=user, plan_id=plan_id)
        if plan.evaluation is not None:
            raise DomainError("plan.already_evaluated")
        if not plan.current:
            raise DomainError("plan.not_current")
        return evaluation_modal(plan, case, plans.plan_tasks(session, plan.id))

    open_modal(client, context, body, build)


def submit_evaluation(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    plan_id = forms.read_metadata(view.get("private_metadata")).get("plan_id")

    def work(session, user, now):
        member, plan, case = _plan(session, at=now, user=user, plan_id=plan_id)
        result = evaluate_and_decide(
            session,
            plan=plan,
            case=case,
            member=member,
            result=forms.value(view, "result"),
            note=forms.value(view, "note"),
            decision=forms.value(view, "decision"),
            close_reason=forms.value(view, "close_reason"),
            at=now,
        )
        plan_reminders.after_evaluation(session, plan, result, at=now, by_member_id=member.id)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.evaluate_plan,
            case_id=case.id,
            detail=f"plan:{plan.id}:{plan.decision}",
        )
        text = t(f"plan.done.{plan.decision}", number=case.number)
        return notice_modal(t("meeting.title.done"), text)

    submit(ack, client, context, body, work, title=t("plan.title.evaluation"), field="decision")
