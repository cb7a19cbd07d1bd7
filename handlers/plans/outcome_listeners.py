"""The outcome of a case at a さぽネット/まるごと meeting: the coordinator opens the form from the
meeting (結果を記録する) and submits it — the plan and the roles follow, the minutes are
rendered again from the outcomes."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session, select

from handlers.common import forms
from handlers.common.blocks import notice_modal
from handlers.common.replies import allowed, button_value, open_modal, submit
from handlers.common.texts import t
from handlers.meetings.documents import meeting_when
from handlers.meetings.lookup import managed, pair
from handlers.meetings.papers import minutes_text
from handlers.plans.outcome_views import OutcomeForm, outcome_modal
from models.base.errors import DomainError
from models.cases.access import Action
from models.cases.consent import COVERABLE_KINDS
from models.cases.records import case_or_none
from models.meetings import schedule as meetings
from models.meetings.minutes import store_minutes
from models.meetings.tables import CASE_MEETINGS, on_agenda
from models.org.roster import windows
from models.org.tables import Agency
from models.plans import tasks as plans
from models.plans.outcomes import OutcomeInput, TaskInput, outcome_of, record_case_outcome
from models.plans.resources import active_resources
from models.plans.tables import TASKS_MAX, TaskState
from reminders import meetings as meeting_reminders
from reminders import plans as plan_reminders


def _outcome_context(session, *, at, user: str, meeting_id, case_id):
    member, meeting = managed(session, at=at, user=user, meeting_id=meeting_id)
    case = case_or_none(session, case_id)
    if case is None:
        raise DomainError("case.not_found")  # the coordinator, who sees every case
    return member, meeting, case


def _task_agencies(session: Session) -> list[Agency]:
    """The agencies a role may go to (those a consent can cover)."""
    return list(
        session.exec(
            select(Agency)
            .where(Agency.active, Agency.kind.in_([k.value for k in COVERABLE_KINDS]))
            .order_by(Agency.position)
        )
    )


def _outcome_form(session: Session, meeting, case) -> OutcomeForm:
    """The form as it starts: the outcome recorded before, else the current plan's open tasks."""
    outcome = outcome_of(session, meeting.id, case.id)
    plan = plans.current_plan(session, case.id) if meeting.kind == "marugoto" else None
    if outcome is not None:
        tasks = plans.tasks_of_outcome(session, outcome)
    elif plan is not None:
        tasks = plans.open_tasks_of_plan(session, plan.id)
    else:
        tasks = []
    return OutcomeForm(
        meeting_id=meeting.id,
        meeting_kind=meeting.kind,
        meeting_when=meeting_when(meeting),
        case=case,
        windows=windows(session),
        task_agencies=_task_agencies(session),
        resources=active_resources(session),
        outcome=outcome,
        plan=plan,
        tasks=[x for x in tasks if x.state != TaskState.cancelled],
        lead_agency_id=outcome.lead_agency_id if outcome else case.lead_agency_id,
    )


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
        return outcome_modal(_outcome_form(session, meeting, case))

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


def _done_text(case, result) -> str:
    done = t("outcome.done", number=case.number)
    if result.plan is not None:
        done += "\n" + t("outcome.done_plan", version=result.plan.version)
    if result.new_tasks:
        done += "\n" + t("outcome.done_tasks", n=len(result.new_tasks))
    if result.lead_changed:
        done += "\n" + t("outcome.done_lead")
    return done


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
        meeting_reminders.after_held(session, meeting, at=now, by_member_id=member.id)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            case_id=case.id,
            detail=f"meeting:{meeting.id}:outcome",
        )
        return notice_modal(t("meeting.title.done"), _done_text(case, result))

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
