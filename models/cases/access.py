"""Who may do what — the one table of rights, checked against the database on every action.

A member's relation to a case decides (coordinators may do everything on every case):
- referrer: the member's agency sent the memo;
- handler: a window member whose agency the case is routed to (routed) or the lead (主担当);
- at window: routed to the member's window and still held there (受付待ち, 窓口で対応中, or
  中断 from there) — once escalated, the coordinator runs the case;
- task holder: a support member whose agency holds an open task (役割分担) in the case's plan
  or in a さぽネット会議's roles (`agencies_with_tasks`, from models/plans/plans.py);
- entitled task holder: a task holder whose agency the current consent covers, or — for a case
  in the さぽネット会議 (no consent) — who has acknowledged the 守秘義務 (confidentiality_ack).

Action            | partner, department, admin | window            | support           | coordinator
----------------- | -------------------------- | ----------------- | ----------------- | -----------
send_memo         | yes                        | yes               | yes               | yes
view_home         | own desk                   | own desk          | own desk          | own desk
list_mine         | own list                   | own list          | own list          | own list
view_case_status  | memos its agency sent      | handler, referrer | task h., referrer | all
view_case_summary | –                          | handler           | task holder       | all
view_case_detail  | –                          | handler           | entitled task h.  | all
view_consent      | –                          | handler           | entitled task h.  | all
view_assessment   | –                          | handler           | entitled task h.  | all
acknowledge_case  | –                          | routed            | –                 | all
reroute_case      | –                          | at window         | –                 | all
escalate_case     | –                          | at window         | –                 | all
suspend_case      | –                          | at window         | –                 | all
close_case        | –                          | at window         | –                 | all
resume_case       | –                          | at window         | –                 | all
record_consent    | –                          | handler           | –                 | all
record_assessment | –                          | lead              | –                 | all
start_assessment  | –                          | –                 | –                 | all
advance_case      | –                          | –                 | –                 | all
set_lead          | –                          | –                 | –                 | all
preview_linknet   | –                          | –                 | –                 | figures
manage_meeting    | –                          | –                 | –                 | all
view_meeting      | attendee                   | attendee          | attendee          | all
view_meeting_case | –                          | entitled attendee | entitled attendee | all
view_task         | owning agency              | owning agency     | owning agency     | all
update_task       | owning agency              | owning agency     | owning agency     | all
evaluate_plan     | –                          | –                 | –                 | all
manage_resources  | –                          | –                 | –                 | all

A referrer (any role) sees only the status word (lifecycle.REFERRER_STATUS) of a memo its agency
sent. A department sees no case — only, like any referrer, that word for a memo its own agency sent
(the closed-loop message already told the sender). An admin sees no case.
Strangers and deactivated members may do nothing. Whether a step makes sense in the case's
current state is the state machine's business (models/cases/lifecycle.py), not this table's.
`case_scope` gives the same answers as SQL, for lists (App Home, /tsunagi mine).
Outreach targets have their own small table (`OutreachAction`, `decide_outreach`): only the
workers of a target's assigned agencies and the coordinator see it or log a contact.
reminder_done / reminder_snooze (buttons on a reminder): the member or team it is addressed to,
a handler of its case, or the coordinator (`_answers_reminder`).
Meetings and plans (`decide(…, meeting=…, task=…)`, `_meeting_right`): an attendee sees the
meeting (agenda, minutes) — of a さぽネット会議 only while bound by 守秘義務; an entitled attendee
also the details of a case on its agenda: of a さぽネット会議 any (bound) attendee, of a
たつのまるごと会議 an attendee whose agency the case's current consent covers. A task's owning
agency (any of its members) sees the task and marks it done or records progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from models.cases.lifecycle import CaseState, Step, steps_from
from models.cases.tables import Case, covers, has_consent
from models.meetings.tables import MeetingKind, bound_by_confidentiality, is_attendee, on_agenda
from models.org.tables import Member, Role
from models.outreach.targets import (
    may_see,  # builds on the org only; imported late like consent
)
from models.plans.holders import agencies_with_open_tasks, cases_with_open_tasks


class Action(StrEnum):
    send_memo = "send_memo"
    view_home = "view_home"
    list_mine = "list_mine"
    view_case_status = "view_case_status"
    view_case_summary = "view_case_summary"
    view_case_detail = "view_case_detail"  # personal details: always audited
    view_consent = "view_consent"  # audited
    view_assessment = "view_assessment"  # audited
    acknowledge_case = "acknowledge_case"
    reroute_case = "reroute_case"
    escalate_case = "escalate_case"
    suspend_case = "suspend_case"
    close_case = "close_case"
    resume_case = "resume_case"
    record_consent = "record_consent"
    record_assessment = "record_assessment"
    start_assessment = "start_assessment"
    advance_case = "advance_case"
    set_lead = "set_lead"
    reminder_done = "reminder_done"  # 対応しました on a reminder message
    reminder_snooze = "reminder_snooze"  # 明日また / 1週間後
    preview_linknet = "preview_linknet"  # /tsunagi summary: the coordinator previews the post
    manage_meeting = "manage_meeting"  # schedule, move, cancel; outcomes and minutes
    view_meeting = "view_meeting"  # the meeting, its agenda and minutes
    view_meeting_case = "view_meeting_case"  # a case's details from the agenda (audited)
    view_task = "view_task"  # what a role assignment asks (audited)
    update_task = "update_task"  # 完了 / 進捗
    evaluate_plan = "evaluate_plan"  # 評価 at the review date
    manage_resources = "manage_resources"  # 参加支援の資源


class Relation(StrEnum):
    referrer = "referrer"
    routed = "routed"
    lead = "lead"
    at_window = "at_window"
    task = "task"
    entitled_task = "entitled_task"


R = Relation
EVERYONE = frozenset({Action.send_memo, Action.view_home, Action.list_mine})
HANDLER = frozenset({R.routed, R.lead})
# For every action on a case: the relations that grant it (a coordinator always may).
RULES: dict[Action, frozenset[Relation]] = {
    Action.view_case_status: frozenset({R.referrer, R.routed, R.lead, R.task}),
    Action.view_case_summary: frozenset({R.routed, R.lead, R.task}),
    Action.view_case_detail: HANDLER | {R.entitled_task},
    Action.view_consent: HANDLER | {R.entitled_task},
    Action.view_assessment: HANDLER | {R.entitled_task},
    Action.acknowledge_case: frozenset({R.routed}),
    Action.reroute_case: frozenset({R.at_window}),
    Action.escalate_case: frozenset({R.at_window}),
    Action.suspend_case: frozenset({R.at_window}),
    Action.close_case: frozenset({R.at_window}),
    Action.resume_case: frozenset({R.at_window}),
    Action.record_consent: HANDLER,
    Action.record_assessment: frozenset({R.lead}),
    Action.start_assessment: frozenset(),
    Action.advance_case: frozenset(),
    Action.set_lead: frozenset(),
}
COORDINATOR_ONLY = frozenset(a for a, granted in RULES.items() if not granted)
AT_WINDOW_STATES = frozenset({CaseState.received, CaseState.window})


# --- extension point: plan tasks (issue 5) ------------------------------------------------------


def agencies_with_tasks(session: Session, case_id: int) -> frozenset[int]:
    """Ids of the agencies holding an open task (PlanTask) in this case."""

    return frozenset(agencies_with_open_tasks(session, case_id))


def cases_with_tasks(session: Session, agency_id: int) -> frozenset[int]:
    """Ids of the cases where this agency holds an open task — the list form of the above."""

    return frozenset(cases_with_open_tasks(session, agency_id))


# --- decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # a message code when refused

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def relations(session: Session, member: Member, case: Case) -> frozenset[Relation]:
    """How this (active) member stands to this case."""
    found: set[Relation] = set()
    if member.agency_id == case.referrer_agency_id:
        found.add(R.referrer)
    if member.has(Role.window):
        if member.agency_id == case.routed_agency_id:
            found.add(R.routed)
            held = case.state in AT_WINDOW_STATES or (
                case.state == CaseState.suspended and case.suspended_from == CaseState.window
            )
            if held:
                found.add(R.at_window)
        if case.lead_agency_id is not None and member.agency_id == case.lead_agency_id:
            found.add(R.lead)
    if member.has(Role.support) and member.agency_id in agencies_with_tasks(session, case.id):
        found.add(R.task)
        if _task_entitled(session, member, case):
            found.add(R.entitled_task)
    return frozenset(found)


def _task_entitled(session: Session, member: Member, case: Case) -> bool:

    if covers(session, case.id, member.agency_id):
        return True
    return case.state == CaseState.saponet and member.confidentiality_ack is not None


def _answers_reminder(session: Session, member: Member, reminder, case: Case | None) -> Decision:
    """A reminder's buttons: its member, its team, a handler of its case, the coordinator."""
    if reminder is None:
        return Decision(False, "reminder.not_found")
    if member.has(Role.coordinator):
        return ALLOW
    mine = {"member": str(member.id), "agency": str(member.agency_id)}
    if mine.get(reminder.recipient_kind) == reminder.recipient:
        return ALLOW
    if case is not None and relations(session, member, case) & HANDLER:
        return ALLOW
    return Decision(False, "reminder.not_yours")


MEETING_ACTIONS = frozenset(
    {
        Action.manage_meeting,
        Action.view_meeting,
        Action.view_meeting_case,
        Action.view_task,
        Action.update_task,
        Action.evaluate_plan,
        Action.manage_resources,
    }
)


def _meeting_right(session: Session, member: Member, action: Action, case, meeting, task):
    """Meetings and plan tasks (the member is active). See the module's docstring.

    A task, meeting or agenda case that does not exist is refused like one the member may not
    see (their texts say the same), so that no answer tells which ids exist."""
    coordinator = member.has(Role.coordinator)
    if action in (Action.view_task, Action.update_task):
        if task is None:
            return Decision(False, "plan.task_not_found")
        if coordinator or member.agency_id == task.agency_id:
            return ALLOW
        return Decision(False, "plan.not_your_task")
    if action not in (Action.view_meeting, Action.view_meeting_case):
        return ALLOW if coordinator else Decision(False, "access.coordinator_only")
    if meeting is None:
        return Decision(False, "meeting.not_found")
    kind = MeetingKind(meeting.kind)
    if not coordinator:
        if not is_attendee(session, meeting.id, member):
            return Decision(False, "meeting.not_attendee")
        if kind is MeetingKind.saponet and not bound_by_confidentiality(member):
            return Decision(False, "meeting.not_bound")
    if action is Action.view_meeting:
        return ALLOW
    if case is None:
        return Decision(False, "meeting.case_not_on_agenda")
    if coordinator:
        return ALLOW
    if not on_agenda(session, meeting.id, case.id):
        return Decision(False, "meeting.case_not_on_agenda")
    if kind is MeetingKind.saponet:
        return ALLOW

    if not has_consent(session, case.id):  # withdrawn since: the case left this meeting
        return Decision(False, "meeting.no_consent_now")
    if kind is MeetingKind.marugoto and (
        covers(session, case.id, member.agency_id) or relations(session, member, case) & HANDLER
    ):
        return ALLOW
    return Decision(False, "access.consent_not_covering")


def decide(
    session: Session,
    member: Member | None,
    action: Action,
    case: Case | None = None,
    *,
    reminder=None,  # a models.reminders.Reminder, for the reminder actions
    meeting=None,  # a models.meetings.Meeting, for the meeting actions
    task=None,  # a models.plans.PlanTask, for the task actions
) -> Decision:
    """May `member` (None: a stranger) do `action` (on `case`)? A refusal carries its reason."""
    if member is None or not member.active:
        return Decision(False, "access.not_registered")
    action = Action(action)
    if action in EVERYONE:
        return ALLOW
    if action in (Action.reminder_done, Action.reminder_snooze):
        return _answers_reminder(session, member, reminder, case)
    if action in MEETING_ACTIONS:
        return _meeting_right(session, member, action, case, meeting, task)
    if action is Action.preview_linknet:  # figures only, but before the departments see them
        return ALLOW if member.has(Role.coordinator) else Decision(False, "access.coordinator_only")
    if case is None:
        return Decision(False, "case.not_found")
    if member.has(Role.coordinator):
        return ALLOW
    found = relations(session, member, case)
    if found & RULES[action]:
        return ALLOW
    if not found:  # a case they may not see at all: the same answer as one that does not exist
        return Decision(False, "access.not_your_case")
    if action in COORDINATOR_ONLY:
        return Decision(False, "access.coordinator_only")
    if RULES[action] == {R.at_window} and R.routed in found:
        if case.state == CaseState.closed:
            return Decision(False, "access.case_closed")
        return Decision(False, "access.not_at_your_window")
    if RULES[action] == {R.lead} and found & HANDLER:
        return Decision(False, "access.lead_only")
    if R.task in found:
        return Decision(False, "access.consent_not_covering")
    return Decision(False, "access.not_your_case")


def allowed(session: Session, member: Member | None, action: Action, case: Case) -> bool:
    return decide(session, member, action, case).allowed


# --- outreach (アウトリーチ): rights on a target, not a case ------------------------------------


class OutreachAction(StrEnum):
    """Outreach targets (models/outreach/outreach.py). Decided by `decide_outreach`:

    create         a target on its own (a 民生児童委員 noticed …): coordinator, window, support
    from_case      a target from a case: the case's handler (routed / lead window), coordinator
    view           label, state, dates: the assigned agencies' workers, coordinator
    view_detail    the person, the reason, the notes — the same; every view audited
    log_contact    record a visit or call (and consent): the same
    pause          pause / resume with a reason: the same
    close          end the outreach: coordinator
    agenda         put the target's case on a meeting's agenda: coordinator
    """

    create = "outreach_create"
    from_case = "outreach_from_case"
    view = "outreach_view"
    view_detail = "outreach_view_detail"
    log_contact = "outreach_log_contact"
    pause = "outreach_pause"
    close = "outreach_close"
    agenda = "outreach_agenda"


def decide_outreach(
    session: Session,
    member: Member | None,
    action: OutreachAction,
    *,
    target=None,  # a models.outreach.OutreachTarget
    case: Case | None = None,  # for from_case
) -> Decision:

    if member is None or not member.active:
        return Decision(False, "access.not_registered")
    action = OutreachAction(action)
    coordinator = member.has(Role.coordinator)
    if action is OutreachAction.create:
        works = coordinator or member.has(Role.window) or member.has(Role.support)
        return ALLOW if works else Decision(False, "access.outreach_workers_only")
    if action is OutreachAction.from_case:
        if case is None:
            return Decision(False, "case.not_found")
        if coordinator or relations(session, member, case) & HANDLER:
            return ALLOW
        return Decision(False, "access.not_your_case")
    if target is None:
        return Decision(False, "outreach.not_found")
    if not coordinator and not may_see(session, member, target):
        return Decision(False, "access.not_your_target")  # the same words as not found
    if action in (OutreachAction.close, OutreachAction.agenda):
        return ALLOW if coordinator else Decision(False, "access.coordinator_only")
    return ALLOW


# Which right each step of the case desk needs (models/cases/lifecycle.Step).
STEP_ACTION: dict[Step, Action] = {
    Step.acknowledge: Action.acknowledge_case,
    Step.reroute: Action.reroute_case,
    Step.escalate: Action.escalate_case,
    Step.start_assessment: Action.start_assessment,
    Step.advance: Action.advance_case,
    Step.set_lead: Action.set_lead,
    Step.suspend: Action.suspend_case,
    Step.resume: Action.resume_case,
    Step.close: Action.close_case,
    Step.consent: Action.record_consent,
    Step.assessment: Action.view_assessment,  # opening it; saving needs record_assessment
}


def steps_for(session: Session, member: Member | None, case: Case) -> list[Step]:
    """The steps this member may take on this case now (state machine and rights together)."""
    found = []
    for step in steps_from(case.state):
        if decide(session, member, STEP_ACTION[step], case) or (
            step is Step.assessment and decide(session, member, Action.record_assessment, case)
        ):
            found.append(step)
    return found


def case_scope(session: Session, member: Member | None, action: Action) -> ColumnElement[bool]:
    """A WHERE clause selecting the cases on which `decide` allows `action` to `member`.

    For the list actions only: view_case_status (everything a member may look up) and
    view_case_summary (the cases a member works on). Tested against `decide` case by case.
    """
    if action not in (Action.view_case_status, Action.view_case_summary):
        raise ValueError(f"no list scope for {action}")
    if member is None or not member.active:
        return false()
    if member.has(Role.coordinator):
        return true()
    parts: list[ColumnElement[bool]] = []
    if action is Action.view_case_status:
        parts.append(Case.referrer_agency_id == member.agency_id)
    if member.has(Role.window):
        parts.append(Case.routed_agency_id == member.agency_id)
        parts.append(Case.lead_agency_id == member.agency_id)
    if member.has(Role.support):
        task_cases = cases_with_tasks(session, member.agency_id)
        if task_cases:
            parts.append(Case.id.in_(sorted(task_cases)))
    return or_(*parts) if parts else false()
