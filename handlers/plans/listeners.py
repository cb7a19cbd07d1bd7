"""Outcomes and the support plan in Slack: the coordinator records what a さぽネット/まるごと
meeting agreed per case (the plan and the roles follow); each task's agency opens its task,
records progress or marks it done; the coordinator evaluates a plan at its review date and keeps
the list of participation resources (`/tsunagi resources`).

As everywhere: the clicking user is looked up in the database and `decide` is asked; refusals
change nothing and are audited; a task's text is shown only in a modal, and that view is audited.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from handlers.common import commands, forms, ids
from handlers.common.blocks import notice_modal
from handlers.common.commands import Reply
from handlers.common.replies import (
    Refused,
    act,
    acting,
    allowed,
    attempt,
    button_value,
    int_or_none,
    open_modal,
    require,
    show,
    submit,
    submitted,
)
from handlers.common.services import services
from handlers.common.texts import t
from handlers.meetings.documents import minutes_text, when_text
from handlers.meetings.listeners import pair
from handlers.plans import views
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases.access import Action, decide
from models.cases.consent import COVERABLE_KINDS
from models.cases.records import case_by_id
from models.cases.tables import Case
from models.meetings import schedule as meetings
from models.meetings.minutes import store_minutes
from models.meetings.tables import CASE_MEETINGS, on_agenda
from models.org.roster import windows
from models.org.tables import Agency
from models.plans import resources
from models.plans import tasks as plans
from models.plans.evaluation import evaluate_and_decide
from models.plans.outcomes import OutcomeInput, TaskInput, outcome_of, record_case_outcome
from models.plans.resources import active_resources, all_resources, use_by_resource
from models.plans.tables import TASKS_MAX, Resource, TaskState
from reminders import plans as plan_reminders

log = logging.getLogger("tsunagi.handlers")


def register(app: App) -> None:
    app.action(ids.ACTION_MEETING_OUTCOME)(open_outcome)
    app.view(ids.VIEW_OUTCOME)(submit_outcome)
    app.action(ids.ACTION_TASK_OPEN)(open_task)
    app.action(ids.ACTION_TASK_DONE)(task_done)
    app.action(ids.ACTION_TASK_PROGRESS)(open_progress)
    app.view(ids.VIEW_TASK_PROGRESS)(submit_progress)
    app.action(ids.ACTION_PLAN_EVALUATE)(open_evaluation)
    app.view(ids.VIEW_EVALUATION)(submit_evaluation)
    app.action(ids.ACTION_RESOURCE_ADD)(open_resource_add)
    app.view(ids.VIEW_RESOURCE_ADD)(submit_resource_add)
    app.action(ids.ACTION_RESOURCE_TOGGLE)(toggle_resource)
    app.view(ids.VIEW_MEETING_SHOW)(lambda ack: ack())  # informational modals: nothing to submit
    commands.add_slow(app, ("resources", "資源"), resources_command, placeholder=False)


# --- the outcome of a case at a meeting ----------------------------------------------------------


def _outcome_context(session, *, at, user: str, meeting_id, case_id):
    meeting = meetings.meeting_by_id(session, meeting_id)
    case = case_by_id(session, case_id) if case_id else None
    if case is None:
        raise DomainError("case.not_found")
    member = require(
        session, at=at, user=user, action=Action.manage_meeting, case=case, meeting=meeting
    )
    return member, meeting, case


def open_outcome(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id, case_id = pair(button_value(body))

    def build(session, user, now):
        _, meeting, case = _outcome_context(
            session, at=now, user=user, meeting_id=meeting_id, case_id=case_id
        )
        if meeting.kind not in CASE_MEETINGS:
            raise DomainError("meeting.linknet_no_cases")
        meetings.require_started(meeting, at=now)
        if not on_agenda(session, meeting.id, case.id):
            raise DomainError("outcome.not_on_agenda", number=case.number)
        outcome = outcome_of(session, meeting.id, case.id)
        plan = plans.current_plan(session, case.id) if meeting.kind == "marugoto" else None
        if outcome is not None:
            tasks = plans.tasks_of_outcome(session, outcome)
        elif plan is not None:
            tasks = plans.open_tasks_of_plan(session, plan.id)
        else:
            tasks = []
        agencies = list(
            session.exec(
                select(Agency)
                .where(Agency.active, Agency.kind.in_([k.value for k in COVERABLE_KINDS]))
                .order_by(Agency.position)
            )
        )
        return views.outcome_modal(
            views.OutcomeForm(
                meeting_id=meeting.id,
                meeting_kind=meeting.kind,
                meeting_when=when_text(meeting.starts_at, meeting.minutes_long),
                case=case,
                windows=windows(session),
                task_agencies=agencies,
                resources=active_resources(session),
                outcome=outcome,
                plan=plan,
                tasks=[x for x in tasks if x.state != TaskState.cancelled],
                lead_agency_id=outcome.lead_agency_id if outcome else case.lead_agency_id,
            )
        )

    open_modal(client, context, body, build)


def read_outcome(view: dict) -> OutcomeInput:
    tasks = [
        TaskInput(
            agency_id=forms.int_value(view, f"task_agency_{i}"),
            what=forms.value(view, f"task_what_{i}"),
            due_on=forms.date_value(view, f"task_due_{i}"),
            resource_id=forms.int_value(view, f"task_resource_{i}"),
        )
        for i in range(TASKS_MAX)
    ]
    return OutcomeInput(
        direction=forms.value(view, "direction"),
        lead_agency_id=forms.int_value(view, "lead"),
        next_step=forms.value(view, "next_step"),
        review_on=forms.date_value(view, "review_on"),
        goals=(forms.value(view, "goals") or "").splitlines(),
        tasks=tasks,
    )


def submit_outcome(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meta = forms.read_metadata(view.get("private_metadata"))
    data = read_outcome(view)
    present = {b.get("block_id") for b in view.get("blocks", [])}

    def work(session, user, now):
        member, meeting, case = _outcome_context(
            session,
            at=now,
            user=user,
            meeting_id=meta.get("meeting_id"),
            case_id=meta.get("case_id"),
        )
        result = record_case_outcome(
            session, meeting=meeting, case=case, member=member, data=data, at=now
        )
        plan_reminders.after_outcome(session, result, at=now)
        text = minutes_text(session, meeting, by=member)
        store_minutes(session, meeting, text=text, by=member, at=now)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            case_id=case.id,
            detail=f"meeting:{meeting.id}:outcome",
        )
        done = t("outcome.done", number=case.number)
        if result.plan is not None:
            done += "\n" + t("outcome.done_plan", version=result.plan.version)
        if result.new_tasks:
            done += "\n" + t("outcome.done_tasks", n=len(result.new_tasks))
        if result.lead_changed:
            done += "\n" + t("outcome.done_lead")
        return notice_modal(t("meeting.title.done"), done)

    submit(
        ack,
        client,
        context,
        body,
        work,
        title=t("outcome.title"),
        field="next_step",
        # a field the form lacks (a task row it does not show) is marked on the direction
        fields=lambda errors: {f if f in present else "direction": t(c) for f, c in errors.items()},
    )


# --- tasks ---------------------------------------------------------------------------------------


def _task(session, *, at, user: str, task_id, action: Action):
    task = plans.task_by_id(session, task_id)
    case = session.get(Case, task.case_id)
    member = require(session, at=at, user=user, action=action, case=case, task=task)
    return member, task, case


def open_task(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """What a role asks: for the owning agency and the coordinator; the view is audited."""
    ack()
    task_id = int_or_none(button_value(body))

    def build(session, user, now):
        member, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.view_task
        )
        agency = session.get(Agency, task.agency_id)
        done_by = None
        if task.done_by_id:
            from models.org.tables import Member

            who = session.get(Member, task.done_by_id)
            done_by = who.slack_id if who else None
        allowed(
            session,
            at=now,
            member=member,
            action=Action.view_task,
            case_id=case.id,
            detail=f"task:{task.id}",
        )
        return views.task_modal(
            views.TaskView(
                task=task,
                case=case,
                agency=agency.name if agency else "",
                resource=session.get(Resource, task.resource_id) if task.resource_id else None,
                progress=views.progress_lines(session, task),
                done_by=done_by,
                can_update=bool(decide(session, member, Action.update_task, case, task=task)),
            )
        )

    open_modal(client, context, body, build)


def task_done(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    task_id = int_or_none(button_value(body))

    def work(session, user, now):
        member, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.update_task
        )
        plans.complete_task(session, task, at=now, by_id=member.id)
        plan_reminders.after_task_closed(session, task, at=now)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.update_task,
            case_id=case.id,
            detail=f"task:{task.id}:done",
        )
        return t("plan.done.done", number=case.number)

    act(client, context, body, work)


def open_progress(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    task_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, task, case = _task(
            session, at=now, user=user, task_id=task_id, action=Action.update_task
        )
        if task.state != TaskState.open:
            raise DomainError("plan.task_not_open")
        return views.progress_modal(task, case)

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
        allowed(
            session,
            at=now,
            member=member,
            action=Action.update_task,
            case_id=case.id,
            detail=f"task:{task.id}:progress",
        )
        text = t("plan.done.progress", number=case.number)
        return notice_modal(t("meeting.title.done"), text)

    submit(ack, client, context, body, work, title=t("plan.title.progress"), field="note")


# --- the evaluation at the review date -----------------------------------------------------------


def _plan(session, *, at, user: str, plan_id):
    plan = plans.plan_by_id(session, plan_id)
    case = session.get(Case, plan.case_id)
    member = require(session, at=at, user=user, action=Action.evaluate_plan, case=case)
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
        return views.evaluation_modal(plan, case, plans.plan_tasks(session, plan.id))

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
        plan_reminders.after_evaluation(session, plan, result, at=now)
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


# --- participation resources ---------------------------------------------------------------------


def resources_view(session):
    return views.resources_modal(all_resources(session), use_by_resource(session))


def resources_command(body: dict, client: WebClient, context: dict, args: list[str]):
    """`/tsunagi resources`: the coordinator's list of participation resources (参加支援),
    gathered and opened after the ack."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    try:
        with acting(svc.engine) as session:
            require(session, at=now, user=user, action=Action.manage_resources)
            view = resources_view(session)
    except Refused as exc:
        return Reply(exc.text)
    show(client, body, view)
    return None


def open_resource_add(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()

    def build(session, user, now):
        require(session, at=now, user=user, action=Action.manage_resources)
        return views.resource_add_modal()

    open_modal(client, context, body, build)


def submit_resource_add(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    def work(session, user, now):
        member = require(session, at=now, user=user, action=Action.manage_resources)
        row = resources.add_from_slack(
            session,
            name=forms.value(view, "name"),
            kind=forms.value(view, "kind"),
            description=forms.value(view, "description"),
        )
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_resources,
            detail=f"resource:{row.id}:added",
        )
        return row.id

    if submitted(ack, context, body, work, title=t("resource.title")) is None:
        return
    # Back on the list (the add form was pushed on top of it): close this one at once, then
    # redraw that one from the database (every resource: read after the ack).
    ack()
    previous = (body.get("view") or {}).get("previous_view_id")
    if previous:
        with transaction(services(context).engine, write=False) as session:
            listing = resources_view(session)
        update_quietly(client, previous, listing)


def toggle_resource(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    resource_id = int_or_none(button_value(body))

    def work(session, user, now):
        member = require(session, at=now, user=user, action=Action.manage_resources)
        row = session.get(Resource, resource_id) if resource_id else None
        if row is None:
            raise DomainError("resource.not_found")
        resources.set_active(session, row.id, active=not row.active)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_resources,
            detail=f"resource:{row.id}:{'on' if row.active else 'off'}",
        )
        return resources_view(session)

    listing = attempt(client, context, body, work)
    if listing is not None:
        update_quietly(client, (body.get("view") or {}).get("id"), listing)


def update_quietly(client: WebClient, view_id: str | None, view) -> None:
    """Redraw a list from the database; if the user closed it meanwhile, nothing is lost."""
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("could not update a view: %s", exc.response.get("error"))
