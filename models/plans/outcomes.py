"""A case's outcome at a meeting: the next step, the plan it makes, the tasks it assigns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.cases import casework
from models.cases.consent import COVERABLE_KINDS
from models.cases.lifecycle import CaseState, can_move
from models.cases.tables import Case, has_consent
from models.meetings.schedule import require_started
from models.meetings.tables import CASE_MEETINGS, MeetingKind, on_agenda
from models.org.tables import Agency, AgencyKind
from models.plans.tables import (
    DIRECTION_LIMIT,
    GOALS_MAX,
    WHAT_LIMIT,
    NextStep,
    Outcome,
    Plan,
    PlanTask,
    Resource,
)
from models.plans.tasks import (
    _add_task,
    _cancel,
    _open_outcome_tasks,
    current_plan,
    make_plan,
    open_tasks_of_plan,
    plan_tasks,
    tell_task_owner,
)


def record_outcome(
    session: Session,
    *,
    meeting_id: int,
    case_id: int,
    direction: str,
    lead_agency_id: int | None,
    next_step: NextStep,
    review_on: date | None,
    recorded_by_id: int,
    at: datetime,
) -> Outcome:
    if not direction.strip():
        raise DomainError("outcome.direction_required")
    existing = outcome_of(session, meeting_id, case_id)
    outcome = existing or Outcome(
        meeting_id=meeting_id,
        case_id=case_id,
        direction="",
        next_step=next_step,
        recorded_by_id=recorded_by_id,
        recorded_at=at,
    )
    if existing is not None:
        outcome.version += 1
    outcome.direction = direction.strip()
    outcome.lead_agency_id = lead_agency_id
    outcome.next_step = next_step
    outcome.review_on = review_on
    outcome.recorded_by_id = recorded_by_id
    outcome.recorded_at = at
    session.add(outcome)
    session.flush()
    return outcome


def outcome_of(session: Session, meeting_id: int, case_id: int) -> Outcome | None:
    return session.exec(
        select(Outcome).where(Outcome.meeting_id == meeting_id, Outcome.case_id == case_id)
    ).first()


def outcomes_of(session: Session, meeting_id: int) -> list[Outcome]:
    return list(
        session.exec(select(Outcome).where(Outcome.meeting_id == meeting_id).order_by(Outcome.id))
    )


@dataclass
class TaskInput:
    agency_id: int | None = None
    what: str | None = None
    due_on: date | None = None
    resource_id: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.agency_id or (self.what or "").strip() or self.due_on or self.resource_id)


@dataclass
class OutcomeInput:
    direction: str | None = None
    lead_agency_id: int | None = None
    next_step: str | None = None
    review_on: date | None = None
    goals: list[str] = field(default_factory=list)
    tasks: list[TaskInput] = field(default_factory=list)  # row i of the form is tasks[i]


class InputInvalid(DomainError):
    """Fields of a form that are missing or wrong: field name -> message code."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("plan.invalid")
        self.errors = errors


def _task_agency_ok(session: Session, agency_id: int) -> bool:

    agency = session.get(Agency, agency_id)
    return agency is not None and agency.active and agency.kind in COVERABLE_KINDS


def validate_outcome(session: Session, *, kind: str, data: OutcomeInput, today: date) -> dict:
    """Field -> message code for every problem of an outcome form (empty when it can be saved)."""
    errors: dict[str, str] = {}
    direction = (data.direction or "").strip()
    if not direction:
        errors["direction"] = "outcome.direction_required"
    elif len(direction) > DIRECTION_LIMIT:
        errors["direction"] = "outcome.too_long"
    if data.next_step not in [s.value for s in NEXT_STEPS[kind]]:
        errors["next_step"] = "outcome.choose_next_step"
    if data.review_on is not None and data.review_on <= today:
        errors["review_on"] = "plan.review_in_the_past"
    if kind == "marugoto":
        if data.review_on is None:
            errors["review_on"] = "plan.review_required"
        goals = [g.strip() for g in data.goals if g and g.strip()]
        if not goals:
            errors["goals"] = "plan.goals_required"
        elif len(goals) > GOALS_MAX or any(len(g) > WHAT_LIMIT for g in goals):
            errors["goals"] = "plan.goals_too_many"
    if data.lead_agency_id is not None:
        lead = session.get(Agency, data.lead_agency_id)
        if lead is None or not lead.active or lead.kind != AgencyKind.window:
            errors["lead"] = "desk.error.choose_window"
    for i, task in enumerate(data.tasks):
        if task.empty:
            continue
        if not task.agency_id or not _task_agency_ok(session, task.agency_id):
            errors[f"task_agency_{i}"] = "plan.task_agency_required"
        what = (task.what or "").strip()
        if not what:
            errors[f"task_what_{i}"] = "plan.task_what_required"
        elif len(what) > WHAT_LIMIT:
            errors[f"task_what_{i}"] = "outcome.too_long"
        if task.due_on is None:
            errors[f"task_due_{i}"] = "plan.task_due_required"
        elif task.due_on < today:
            errors[f"task_due_{i}"] = "plan.task_due_in_the_past"
        if task.resource_id is not None:
            resource = session.get(Resource, task.resource_id)
            if resource is None or not resource.active:
                errors[f"task_resource_{i}"] = "resource.not_found"
    return errors


@dataclass
class OutcomeResult:
    outcome: Outcome
    plan: Plan | None
    new_tasks: list[PlanTask]
    cancelled_tasks: list[PlanTask]
    lead_changed: bool
    moved_to: CaseState | None


def _walk(session: Session, case: Case, member, targets: list[CaseState], at: datetime):
    """Advance the case through `targets` (those it is not in yet), via the case desk."""

    moved = None
    if case.state == CaseState.coordination:  # the meeting is the assessment's outcome
        targets = [CaseState.assessment, *targets]
    for target in targets:
        if case.state == target:
            continue
        if not can_move(CaseState(case.state), target):
            continue
        try:
            casework.advance(session, case=case, member=member, stage=target, note=None, at=at)
        except casework.InputError as exc:
            code = exc.errors.get("stage", "outcome.cannot_move")
            raise InputInvalid({"next_step": code}) from None
        moved = target
    return moved


STEP_TARGETS: dict[tuple[str, str], list[CaseState]] = {
    ("saponet", NextStep.outreach_for_consent): [CaseState.saponet],
    ("saponet", NextStep.keep_discussing): [CaseState.saponet],
    ("saponet", NextStep.to_marugoto): [CaseState.marugoto],
    ("saponet", NextStep.start_support): [CaseState.saponet, CaseState.support],
    ("marugoto", NextStep.keep_discussing): [CaseState.marugoto],
    ("marugoto", NextStep.start_support): [CaseState.marugoto, CaseState.support],
}


def record_case_outcome(
    session: Session, *, meeting, case: Case, member, data: OutcomeInput, at: datetime
) -> OutcomeResult:
    """Record what the meeting agreed for `case`; set the lead, move the case, make the plan
    (たつのまるごと会議) or the roles (さぽネット会議), and tell each agency of its new role.

    Raises InputInvalid (form fields) or DomainError; the caller's transaction then rolls back.
    """

    kind = MeetingKind(meeting.kind)
    if kind not in CASE_MEETINGS:
        raise DomainError("meeting.linknet_no_cases")
    require_started(meeting, at=at)
    if not on_agenda(session, meeting.id, case.id):
        raise DomainError("outcome.not_on_agenda", number=case.number)
    if case.state == CaseState.closed:
        raise DomainError("meeting.case_closed", numbers=case.number)
    if kind is MeetingKind.marugoto and not has_consent(session, case.id):
        raise DomainError("meeting.marugoto_needs_consent", numbers=case.number)
    today = at.astimezone(TOKYO).date()
    errors = validate_outcome(session, kind=kind.value, data=data, today=today)
    if errors:
        raise InputInvalid(errors)
    step = NextStep(data.next_step)
    outcome = record_outcome(
        session,
        meeting_id=meeting.id,
        case_id=case.id,
        direction=data.direction or "",
        lead_agency_id=data.lead_agency_id,
        next_step=step,
        review_on=data.review_on,
        recorded_by_id=member.id,
        at=at,
    )
    lead_changed = False
    if data.lead_agency_id is not None and data.lead_agency_id != case.lead_agency_id:
        casework.set_lead(
            session,
            case=case,
            member=member,
            agency_id=data.lead_agency_id,
            reason=None,
            at=at,
        )
        lead_changed = True
    moved = _walk(session, case, member, STEP_TARGETS[(kind.value, step)], at)
    rows = [t for t in data.tasks if not t.empty]
    tasks = [
        {
            "agency_id": t.agency_id,
            "what": t.what or "",
            "due_on": t.due_on,
            "resource_id": t.resource_id,
        }
        for t in rows
    ]
    plan = None
    if kind is MeetingKind.marugoto:
        previous = current_plan(session, case.id)
        old_open = open_tasks_of_plan(session, previous.id) if previous else []
        plan = make_plan(
            session,
            case_id=case.id,
            goals=data.goals,
            review_on=data.review_on,
            tasks=tasks,
            created_by_id=member.id,
            at=at,
            meeting_id=meeting.id,
        )
        new = plan_tasks(session, plan.id)
        cancelled = old_open
    else:
        cancelled = _cancel(session, _open_outcome_tasks(session, outcome.id), at=at)
        new = [_add_task(session, case.id, t, at=at, outcome_id=outcome.id) for t in tasks]
        session.flush()
    for task in new:
        tell_task_owner(session, task, event="assigned", at=at)
    return OutcomeResult(outcome, plan, new, cancelled, lead_changed, moved)


# What a meeting may decide as the next step (the outcome form offers these, in this order).
NEXT_STEPS: dict[str, tuple[NextStep, ...]] = {
    "saponet": (
        NextStep.outreach_for_consent,
        NextStep.to_marugoto,
        NextStep.start_support,
        NextStep.keep_discussing,
    ),
    "marugoto": (NextStep.start_support, NextStep.keep_discussing),
}
