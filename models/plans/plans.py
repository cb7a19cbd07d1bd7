"""Meeting outcomes, the support plan (支援プラン) with its versions and tasks, the evaluation at
the review date, and the local participation resources (参加支援) a task can link.

- A さぽネット/まるごと meeting records per case an `Outcome`: the agreed direction (支援方針),
  the lead agency (主担当), the next step and the next review date, and role assignments
  (`PlanTask`: which agency does what by when).
- At a たつのまるごと会議 the outcome creates the case's plan or a new version of it (`Plan`;
  versions are kept, the open tasks of the old version are replaced by the new roles). At a
  さぽネット会議 (no consent, no plan) the roles belong to the outcome itself.
- Case states change only through the case desk (models.casework: advance, set_lead, close,
  suspend), so every change is checked by the state machine and recorded.

Free text (direction, goals, tasks, notes) is encrypted; messages name a case by its receipt
number only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, Index, UniqueConstraint, func
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, select

from models.base.clock import TOKYO
from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime
from models.base.errors import DomainError
from models.cases.lifecycle import CaseState
from models.cases.tables import Case
from models.queues import outbox
from models.queues import reminders as reminder_store

DIRECTION_LIMIT = 1000
WHAT_LIMIT = 300
NOTE_LIMIT = 500
GOALS_MAX = 5
TASKS_MAX = 5
DUE_TIME = time(17, 15)  # a task is due by the end of the office day (the calendar's default)
REVIEW_TIME = time(8, 30)  # a review falls due at the opening of its day
TASK_MESSAGE = "task_assigned"  # the notice telling an agency of its task (with its buttons)
TASK_MESSAGE_REFRESH = "task_message_refresh"  # chat.update of that message once it is closed


class NextStep(StrEnum):
    outreach_for_consent = "outreach_for_consent"  # build trust until the person agrees
    to_marugoto = "to_marugoto"  # consent obtained: plan at the まるごと会議
    start_support = "start_support"  # the plan runs; monitoring
    keep_discussing = "keep_discussing"  # the meeting takes the case up again
    continue_support = "continue_support"
    close = "close"


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


class Evaluation(StrEnum):
    achieved = "achieved"  # 達成
    partly = "partly"  # 一部達成
    not_achieved = "not_achieved"  # 未達成


class Decision(StrEnum):
    """What follows an evaluation."""

    replan = "replan"  # back to the たつのまるごと会議 for a new plan
    close = "close"  # 終結
    suspend = "suspend"  # 中断


class TaskState(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Outcome(SQLModel, table=True):
    """What a さぽネット/まるごと meeting agreed for one case."""

    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    direction: str = Field(sa_column=Column(EncryptedText, nullable=False))  # 支援方針
    lead_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    next_step: str = Field(max_length=32)
    review_on: date | None = None  # 次回評価日
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1  # bumped when recorded again (its review reminder follows)


class Plan(SQLModel, table=True):
    """One version of a case's plan; a revision adds a version, never overwrites."""

    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    version: int
    goals: list = Field(sa_column=Column(EncryptedJSON, nullable=False))
    review_on: date
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    current: bool = True
    evaluation: str | None = Field(default=None, max_length=16)
    evaluation_note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    evaluated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision: str | None = Field(default=None, max_length=16)  # after the evaluation


class PlanTask(SQLModel, table=True):
    """A role assignment (役割分担): which agency does what by when.

    Of a plan (たつのまるごと会議), or of a さぽネット会議's outcome (no plan without consent)."""

    # The open tasks, soonest due first (the App Home's list and its overdue ones): migration 0002.
    __table_args__ = (Index("ix_plantask_state_due_on", "state", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    outcome_id: int | None = Field(default=None, foreign_key="outcome.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    what: str = Field(sa_column=Column(EncryptedText, nullable=False))
    due_on: date
    state: str = Field(default=TaskState.open, max_length=12, index=True)
    progress: list = Field(default_factory=list, sa_column=Column(EncryptedJSON, nullable=False))
    progress_count: int = 0  # how many notes: lists show it without decrypting them
    resource_id: int | None = Field(default=None, foreign_key="resource.id")
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_id: int | None = Field(default=None, foreign_key="member.id")


class ResourceKind(StrEnum):
    ibasho = "ibasho"  # 居場所
    work = "work"  # 就労体験・就労支援
    volunteer = "volunteer"  # ボランティア
    salon = "salon"  # サロン・通いの場
    learning = "learning"  # 学習支援
    other = "other"


class Resource(SQLModel, table=True):
    """A local participation resource: 居場所, 就労体験, ボランティア, サロン …"""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    description: str | None = Field(default=None, max_length=300)
    source: str = Field(default="file", max_length=8)  # "file" (resources load) or "slack"
    active: bool = True


# --- outcomes ------------------------------------------------------------------------------------


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
    from models.cases.consent import COVERABLE_KINDS
    from models.org.tables import Agency

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
        from models.org.tables import Agency, AgencyKind

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
    from models.cases import casework
    from models.cases.lifecycle import can_move

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
    from models.cases import casework
    from models.cases.consent import has_consent
    from models.meetings.schedule import on_agenda, require_started
    from models.meetings.tables import CASE_MEETINGS, MeetingKind

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


# --- plans and tasks -----------------------------------------------------------------------------


def current_plan(session: Session, case_id: int) -> Plan | None:
    return session.exec(select(Plan).where(Plan.case_id == case_id, Plan.current)).first()


def plan_versions(session: Session, case_id: int) -> list[Plan]:
    return list(session.exec(select(Plan).where(Plan.case_id == case_id).order_by(Plan.version)))


def plan_by_id(session: Session, plan_id: int | None) -> Plan:
    plan = session.get(Plan, plan_id) if plan_id else None
    if plan is None:
        raise DomainError("plan.not_found")
    return plan


def _add_task(
    session: Session,
    case_id: int,
    task: dict,
    *,
    at: datetime | None,
    plan_id: int | None = None,
    outcome_id: int | None = None,
) -> PlanTask:
    row = PlanTask(
        plan_id=plan_id,
        outcome_id=outcome_id,
        case_id=case_id,
        agency_id=task["agency_id"],
        what=task["what"].strip(),
        due_on=task["due_on"],
        resource_id=task.get("resource_id"),
        created_at=at,
    )
    session.add(row)
    return row


def _cancel(session: Session, tasks: list[PlanTask], *, at: datetime) -> list[PlanTask]:
    for task in tasks:
        task.state = TaskState.cancelled
        session.add(task)
        refresh_task_messages(session, task, at=at)
    retire_task_reminders(session, tasks, at=at)
    return tasks


def open_tasks_of_plan(session: Session, plan_id: int) -> list[PlanTask]:
    return list(
        session.exec(
            select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.state == TaskState.open)
        )
    )


def _open_outcome_tasks(session: Session, outcome_id: int) -> list[PlanTask]:
    return list(
        session.exec(
            select(PlanTask).where(
                PlanTask.outcome_id == outcome_id, PlanTask.state == TaskState.open
            )
        )
    )


def open_tasks_of_case(session: Session, case_id: int) -> list[PlanTask]:
    return list(
        session.exec(
            select(PlanTask)
            .where(PlanTask.case_id == case_id, PlanTask.state == TaskState.open)
            .order_by(PlanTask.due_on, PlanTask.id)
        )
    )


def end_case_tasks(session: Session, case: Case, *, at: datetime) -> list[PlanTask]:
    """The case was closed or suspended: its open tasks end (their messages say so)."""
    return _cancel(session, open_tasks_of_case(session, case.id), at=at)


def make_plan(
    session: Session,
    *,
    case_id: int,
    goals: list[str],
    review_on: date,
    tasks: list[dict],
    created_by_id: int,
    at: datetime,
    meeting_id: int | None = None,
) -> Plan:
    """Create the first plan or a new version; open tasks of the old version are carried over
    only when listed again (the meeting decides the roles anew)."""
    goals = [g.strip() for g in goals if g and g.strip()]
    if not goals:
        raise DomainError("plan.goals_required")
    if review_on <= at.astimezone(TOKYO).date():
        raise DomainError("plan.review_in_the_past")
    for task in tasks:
        if not task.get("what", "").strip():
            raise DomainError("plan.task_what_required")
    previous = current_plan(session, case_id)
    version = 1
    if previous is not None:
        previous.current = False
        session.add(previous)
        _cancel(session, open_tasks_of_plan(session, previous.id), at=at)
        version = previous.version + 1
    session.flush()
    plan = Plan(
        case_id=case_id,
        version=version,
        goals=goals,
        review_on=review_on,
        meeting_id=meeting_id,
        created_by_id=created_by_id,
        created_at=at,
    )
    session.add(plan)
    session.flush()
    for task in tasks:
        _add_task(session, case_id, task, at=at, plan_id=plan.id)
    session.flush()
    return plan


def plan_tasks(session: Session, plan_id: int) -> list[PlanTask]:
    return list(
        session.exec(select(PlanTask).where(PlanTask.plan_id == plan_id).order_by(PlanTask.id))
    )


def tasks_of_outcome(session: Session, outcome: Outcome) -> list[PlanTask]:
    """The roles an outcome assigned: its own (さぽネット) or its plan's (まるごと)."""
    own = list(
        session.exec(
            select(PlanTask)
            .where(PlanTask.outcome_id == outcome.id, PlanTask.state != TaskState.cancelled)
            .order_by(PlanTask.id)
        )
    )
    if own:
        return own
    plan = session.exec(
        select(Plan)
        .where(Plan.case_id == outcome.case_id, Plan.meeting_id == outcome.meeting_id)
        .order_by(Plan.version.desc())
    ).first()
    return plan_tasks(session, plan.id) if plan else []


def task_by_id(session: Session, task_id: int | None) -> PlanTask:
    task = session.get(PlanTask, task_id) if task_id else None
    if task is None:
        raise DomainError("plan.task_not_found")
    return task


def complete_task(session: Session, task: PlanTask, *, at: datetime, by_id: int | None = None):
    if task.state != TaskState.open:
        raise DomainError("plan.task_not_open")
    task.state = TaskState.done
    task.done_at = at
    task.done_by_id = by_id
    session.add(task)
    refresh_task_messages(session, task, at=at)
    retire_task_reminders(session, [task], at=at)


def add_progress(session: Session, task: PlanTask, *, note: str, by_id: int, at: datetime):
    note = (note or "").strip()
    if not note:
        raise DomainError("plan.progress_required")
    if len(note) > NOTE_LIMIT:
        raise DomainError("plan.progress_too_long", most=NOTE_LIMIT)
    if task.state != TaskState.open:
        raise DomainError("plan.task_not_open")
    task.progress = [*task.progress, {"at": at.isoformat(), "by": by_id, "note": note}]
    task.progress_count = len(task.progress)
    session.add(task)


def tell_task_owner(session: Session, task: PlanTask, *, event: str, at: datetime) -> int:
    """A message to the agency that holds the task: its channel, else each active member."""
    from models.cases.memo import card_targets
    from models.org.tables import Agency

    agency = session.get(Agency, task.agency_id)
    if agency is None or not agency.active:
        return 0
    queued = 0
    for target in card_targets(session, agency):
        queued += outbox.enqueue(
            session,
            key=f"task:{task.id}:{event}:{target}",
            kind=TASK_MESSAGE,
            target=target,
            payload={"task_id": task.id},
            at=at,
        )
    return queued


def refresh_task_messages(session: Session, task: PlanTask, *, at: datetime) -> int:
    """Queue a chat.update of every message that told the agency of this task, so a task no
    longer open (done, or ended by a new plan) says so and stops offering its buttons."""
    messages = session.exec(
        select(outbox.Notice).where(
            outbox.Notice.kind == TASK_MESSAGE, outbox.Notice.key.startswith(f"task:{task.id}:")
        )
    )
    queued = 0
    for message in messages:
        queued += outbox.enqueue(
            session,
            key=f"task:{task.id}:{task.state}:{message.id}",
            kind=TASK_MESSAGE_REFRESH,
            target=message.target,
            payload={"task_id": task.id, "message_notice_id": message.id},
            at=at,
        )
    return queued


def retire_task_reminders(session: Session, tasks: list[PlanTask], *, at: datetime) -> int:
    """Queue a chat.update of the reminders already posted about these tasks (期限が近づいて…),
    so an ended task's reminder says so and stops offering 完了 / 進捗 / 明日また. Those not yet
    sent are the reminder rules' business (cancelled, or dropped at dispatch)."""
    if not tasks:
        return 0
    posted = session.exec(
        select(reminder_store.Reminder).where(
            reminder_store.Reminder.subject_kind == reminder_store.SubjectKind.task.value,
            reminder_store.Reminder.subject_id.in_([str(t.id) for t in tasks]),
            reminder_store.Reminder.state == reminder_store.ReminderState.sent.value,
        )
    ).all()
    queued = 0
    for reminder in posted:
        reminder.version += 1  # a new version: its message is refreshed even if refreshed before
        reminder.updated_at = at
        session.add(reminder)
        queued += reminder_store.refresh_messages(session, reminder=reminder, at=at)
    return queued


def evaluate(
    session: Session, plan: Plan, *, result: Evaluation, note: str | None, at: datetime
) -> None:
    if plan.evaluation is not None:
        raise DomainError("plan.already_evaluated")
    if not plan.current:
        raise DomainError("plan.not_current")
    note = (note or "").strip() or None
    if note and len(note) > NOTE_LIMIT:
        raise InputInvalid({"note": "outcome.too_long"})
    plan.evaluation = Evaluation(result)
    plan.evaluation_note = note
    plan.evaluated_at = at
    session.add(plan)


@dataclass
class EvaluationResult:
    cancelled_tasks: list[PlanTask]
    moved_to: CaseState


def evaluate_and_decide(
    session: Session,
    *,
    plan: Plan,
    case: Case,
    member,
    result: str | None,
    note: str | None,
    decision: str | None,
    close_reason: str | None,
    at: datetime,
) -> EvaluationResult:
    """評価 at the review date, then: re-plan (まるごと会議), close (終結) or suspend (中断)."""
    from models.cases import casework
    from models.cases.lifecycle import can_move

    errors = {}
    if result not in Evaluation.__members__:
        errors["result"] = "plan.choose_result"
    if decision not in Decision.__members__:
        errors["decision"] = "plan.choose_decision"
    if errors:
        raise InputInvalid(errors)
    if case.state not in (CaseState.support, CaseState.evaluation):
        raise DomainError("plan.not_in_support", number=case.number, state=case.state)
    evaluate(session, plan, result=Evaluation(result), note=note, at=at)
    plan.decision = decision
    if case.state == CaseState.support and can_move(CaseState.support, CaseState.evaluation):
        casework.advance(
            session, case=case, member=member, stage=CaseState.evaluation, note=None, at=at
        )
    cancelled: list[PlanTask] = []
    try:
        if decision == Decision.replan:
            casework.advance(
                session, case=case, member=member, stage=CaseState.marugoto, note=None, at=at
            )
        elif decision == Decision.close:
            casework.close(
                session, case=case, member=member, reason_code=close_reason, note=note, at=at
            )
            cancelled = end_case_tasks(session, case, at=at)
        else:
            casework.suspend(session, case=case, member=member, reason=note, at=at)
            cancelled = end_case_tasks(session, case, at=at)
    except casework.InputError as exc:
        fields = {"stage": "decision", "close_reason": "close_reason", "note": "note"}
        raise InputInvalid(
            {fields.get(name, "note"): code for name, code in exc.errors.items()}
        ) from None
    session.add(plan)
    return EvaluationResult(cancelled, CaseState(case.state))


def reviews_due(session: Session, *, on_or_before: date) -> list[Plan]:
    """Current plans of open cases whose review date has come and that are not evaluated yet (goals
    and notes are decrypted only if read: the desk lists hundreds by date and number)."""
    return list(
        session.exec(
            select(Plan)
            .options(defer(Plan.goals), defer(Plan.evaluation_note))
            .join(Case, Case.id == Plan.case_id)
            .where(Plan.current, Plan.evaluation.is_(None), Plan.review_on <= on_or_before)
            .where(Case.state.not_in([CaseState.closed, CaseState.suspended]))
            .order_by(Plan.review_on, Plan.id)
        )
    )


# --- who holds tasks (models/cases/access.py) -----------------------------------------------------


def agencies_with_open_tasks(session: Session, case_id: int) -> set[int]:
    rows = session.exec(
        select(PlanTask.agency_id).where(
            PlanTask.case_id == case_id, PlanTask.state == TaskState.open
        )
    )
    return set(rows)


def cases_with_open_tasks(session: Session, agency_id: int) -> set[int]:
    rows = session.exec(
        select(PlanTask.case_id).where(
            PlanTask.agency_id == agency_id, PlanTask.state == TaskState.open
        )
    )
    return set(rows)


@dataclass(frozen=True)
class TaskLine:
    """An open task as lists show it: ids, dates and counts — nothing decrypted."""

    task_id: int
    case_id: int
    number: str
    agency_id: int
    due_on: date
    notes: int


def open_task_lines(
    session: Session, *, agency_id: int | None = None, due_before: date | None = None, limit=None
) -> list[TaskLine]:
    """Open tasks (of one agency, or all), soonest due first, in one query."""
    query = (
        select(
            PlanTask.id,
            PlanTask.case_id,
            Case.number,
            PlanTask.agency_id,
            PlanTask.due_on,
            PlanTask.progress_count,
        )
        .join(Case, Case.id == PlanTask.case_id)
        .where(PlanTask.state == TaskState.open)
    )
    if agency_id is not None:
        query = query.where(PlanTask.agency_id == agency_id)
    if due_before is not None:
        query = query.where(PlanTask.due_on < due_before)
    query = query.order_by(PlanTask.due_on, PlanTask.id)
    if limit is not None:
        query = query.limit(limit)
    return [TaskLine(*row) for row in session.exec(query)]


# --- participation resources ---------------------------------------------------------------------


def resource_use(session: Session, *, since: datetime, until: datetime) -> dict[str, int]:
    """How many plan tasks linked each kind of resource (counts only), by the task's creation."""
    rows = session.exec(
        select(Resource.kind, func.count(PlanTask.id))
        .join(PlanTask, PlanTask.resource_id == Resource.id)
        .where(PlanTask.created_at >= since, PlanTask.created_at < until)
        .group_by(Resource.kind)
    )
    return dict(rows)


def use_by_resource(session: Session) -> dict[int, int]:
    """Tasks linked to each resource, ever (for the coordinator's list)."""
    rows = session.exec(
        select(PlanTask.resource_id, func.count(PlanTask.id))
        .where(PlanTask.resource_id.is_not(None))
        .group_by(PlanTask.resource_id)
    )
    return {int(r): int(n) for r, n in rows}


def active_resources(session: Session) -> list[Resource]:
    return list(
        session.exec(select(Resource).where(Resource.active).order_by(Resource.kind, Resource.id))
    )


def all_resources(session: Session) -> list[Resource]:
    return list(session.exec(select(Resource).order_by(Resource.active.desc(), Resource.id)))


# --- the desk (models/desk/desk.py): tasks and reviews that are late ------------------------------


def due_at(day: date, at: time = DUE_TIME) -> datetime:
    return datetime.combine(day, at, tzinfo=TOKYO)


def overdue_items(session: Session, member, now: datetime, deadline_of) -> list:
    """Overdue tasks (the member's agency's; all for the coordinator) and reviews that are due
    (the coordinator's), as the desk's OverdueItem rows."""
    from models.desk.desk import OverdueItem
    from models.org.tables import Role

    del deadline_of
    today = now.astimezone(TOKYO).date()
    coordinator = member.has(Role.coordinator)
    lines = open_task_lines(
        session, agency_id=None if coordinator else member.agency_id, due_before=today
    )
    items = [OverdueItem("task", x.case_id, x.number, due_at(x.due_on)) for x in lines]
    if coordinator:
        plans = reviews_due(session, on_or_before=today)
        ids = sorted({p.case_id for p in plans})
        # One query for the receipt numbers, not one per plan (hundreds on a large desk).
        numbers = dict(session.exec(select(Case.id, Case.number).where(Case.id.in_(ids))).all())
        for plan in plans:
            due = due_at(plan.review_on, REVIEW_TIME)
            items.append(OverdueItem("review", plan.case_id, numbers[plan.case_id], due))
    return items
