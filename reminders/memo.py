"""Acknowledgement reminders for つなぎメモ: remind the team at the deadline, then escalate.

On receipt (in the transaction that stores the memo) two reminders are scheduled:
  1. memo_ack            — to the routed window/team, at the acknowledgement deadline;
  2. memo_ack_escalation — to the coordinator, at the next deadline after that; and, while the
     memo still waits, again at every further deadline (repeat_escalation).
Both check at dispatch that the memo is still waiting: once someone takes it, nothing is sent.
memo_ack goes to the team the memo is routed to when it is sent (after a つなぎ直し, the new one).

A periodic job (ensure_ack_reminders) makes sure every waiting memo has an open reminder, so
one that waits again after being taken (つなぎ直し, 再開) or came in another way is not forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from models.base.db import transaction
from models.cases.concerns import Urgency
from models.cases.lifecycle import CaseState
from models.cases.memo import StoredMemo
from models.cases.tables import Case
from models.org.roster import coordinator_agency
from models.queues.reminder_settings import ReminderSettings
from models.queues.reminders import Planned, reminders_of, schedule_planned
from models.queues.tables import OPEN_REMINDER_STATES, Recipient, Reminder, Subject, SubjectKind
from reminders.calendar import BusinessCalendar
from reminders.deadlines import ack_deadline, calendar_for, reminder_settings
from reminders.jobs import JobContext, periodic
from reminders.rules import ACKNOWLEDGE, DETAIL, SNOOZE_TOMORROW, Rule, case_of, register
from reminders.schedule import planned, schedule_reminder, schedule_reminders

MEMO_ACK = "memo_ack"
MEMO_ACK_ESCALATION = "memo_ack_escalation"


def memo_waiting(session: Session, reminder: Reminder) -> bool:
    case = case_of(session, reminder)
    return case is not None and case.acknowledged_at is None and case.state == CaseState.received


@dataclass(frozen=True)
class AckRules:
    """What a memo's acknowledgement reminders depend on: read before the memo is stored, so
    the write that stores it only writes."""

    calendar: BusinessCalendar
    settings: ReminderSettings
    coordinator_id: int | None


def ack_rules(session: Session) -> AckRules:
    coordinator = coordinator_agency(session)
    return AckRules(
        calendar_for(session),
        reminder_settings(session),
        None if coordinator is None else coordinator.id,
    )


def _escalation(case: Case, *, due_at: datetime, round_: int, rules: AckRules):
    """The coordinator's reminder about a memo still waiting, or None without a coordinator."""
    if rules.coordinator_id is None:
        return None
    return planned(
        key=_escalation_key(case, round_),
        subject=Subject(SubjectKind.case, case.id),
        rule=MEMO_ACK_ESCALATION,
        recipient=Recipient.agency(rules.coordinator_id),
        due_at=due_at,
        urgent=case.urgency == Urgency.urgent,
        payload={"round": round_},
        calendar=rules.calendar,
    )


def _escalation_key(case: Case, round_: int) -> str:
    return f"case:{case.id}:ack:escalate:{round_}"


def _escalate_again(session: Session, reminder: Reminder, now: datetime) -> None:
    """Still waiting after an escalation: ask the coordinator again at the next deadline."""
    rules = ack_rules(session)
    case = case_of(session, reminder)
    if not rules.settings.repeat_escalation or case is None or reminder.snoozed_from_id is not None:
        return
    nxt = ack_deadline(
        rules.calendar,
        received_at=max(reminder.due_at, now),
        urgency=case.urgency,
        rules=rules.settings.ack,
    )
    round_ = int(reminder.payload.get("round", 1)) + 1
    escalation = _escalation(case, due_at=nxt, round_=round_, rules=rules)
    if escalation is not None:
        schedule_reminders(session, [escalation], at=now)


def routed_team(session: Session, reminder: Reminder) -> Recipient | None:
    case = case_of(session, reminder)
    return Recipient.agency(case.routed_agency_id) if case is not None else None


register(
    Rule(
        MEMO_ACK,
        applies=memo_waiting,
        recipient=routed_team,
        actions=(DETAIL, ACKNOWLEDGE, SNOOZE_TOMORROW),
    )
)
register(
    Rule(
        MEMO_ACK_ESCALATION,
        applies=memo_waiting,
        after_sent=_escalate_again,
        actions=(DETAIL, ACKNOWLEDGE, SNOOZE_TOMORROW),
    )
)


def schedule_ack_reminders(
    session: Session, *, case: Case | StoredMemo, at: datetime, rules: AckRules | None = None
) -> None:
    """Call in the transaction that stores the memo. Idempotent (keys from the case id).
    `rules`: read beforehand (ack_rules), so this only writes."""
    schedule_ack_reminders_all(session, cases=[case], at=at, rules=rules)


def schedule_ack_reminders_all(
    session: Session,
    *,
    cases: Sequence[Case | StoredMemo],
    at: datetime,
    rules: AckRules | None = None,
) -> None:
    """As schedule_ack_reminders, for memos stored together: every reminder goes in one
    statement and none is read back (this runs for every memo)."""
    if not cases:
        return
    rules = rules or ack_rules(session)
    schedule_reminders(session, [p for c in cases for p in _ack_planned(c, rules)], at=at)


def _ack_planned(case: Case | StoredMemo, rules: AckRules) -> list[Planned]:
    cal, settings = rules.calendar, rules.settings
    urgent = case.urgency == Urgency.urgent
    subject = Subject(SubjectKind.case, case.id)
    first = ack_deadline(cal, received_at=case.created_at, urgency=case.urgency, rules=settings.ack)
    scheduled = [
        planned(
            key=f"case:{case.id}:ack:remind",
            subject=subject,
            rule=MEMO_ACK,
            recipient=Recipient.agency(case.routed_agency_id),
            due_at=first,
            urgent=urgent,
            calendar=cal,
        )
    ]
    if settings.escalate:
        second = ack_deadline(cal, received_at=first, urgency=case.urgency, rules=settings.ack)
        escalation = _escalation(case, due_at=second, round_=1, rules=rules)
        if escalation is not None:
            scheduled.append(escalation)
    return scheduled


# --- nothing waits unwatched -------------------------------------------------------------------

ENSURE_EVERY = timedelta(minutes=10)
MEMO_RULES = (MEMO_ACK, MEMO_ACK_ESCALATION)


def ensure_ack_reminders(
    session: Session, *, now: datetime, case_ids: Sequence[int] | None = None
) -> list[Reminder]:
    """Give every memo still waiting to be taken an open reminder, if it has none.

    - not yet reminded for its current wait (a つなぎ直し, a resumed memo): the routed team, at
      the deadline counted from when it started waiting there;
    - else, with escalation on: the coordinator, at the next deadline from now.
    Idempotent: keys come from the case and its wait, or the next escalation round.
    `case_ids` limits the look to those memos (the periodic job goes through them in batches).
    """
    query = _waiting()
    if case_ids is not None:
        query = query.where(Case.id.in_(case_ids))
    waiting = list(session.exec(query))
    if not waiting:
        return []
    open_rules: dict[str, set[str]] = {}
    open_query = select(Reminder.subject_id, Reminder.rule).where(
        Reminder.subject_kind == SubjectKind.case,
        Reminder.rule.in_(MEMO_RULES),
        Reminder.state.in_([s.value for s in OPEN_REMINDER_STATES]),
    )
    if case_ids is not None:
        open_query = open_query.where(Reminder.subject_id.in_([str(i) for i in case_ids]))
    for subject_id, rule in session.exec(open_query):
        open_rules.setdefault(subject_id, set()).add(rule)
    rules = ack_rules(session)
    cal, settings = rules.calendar, rules.settings
    scheduled = []
    for case in waiting:
        open_ = open_rules.get(str(case.id), set())
        since = case.state_since or case.created_at
        subject = Subject(SubjectKind.case, case.id)
        key = f"case:{case.id}:ack:remind"
        if since != case.created_at:
            key = f"case:{case.id}:ack:remind:{int(since.timestamp())}"
        # The team it waits with now is reminded once per wait (a pending one follows the memo).
        if MEMO_ACK not in open_ and not reminders_by_key(session, key):
            due = ack_deadline(cal, received_at=since, urgency=case.urgency, rules=settings.ack)
            scheduled.append(
                schedule_reminder(
                    session,
                    key=key,
                    subject=subject,
                    rule=MEMO_ACK,
                    recipient=Recipient.agency(case.routed_agency_id),
                    due_at=max(due, now),
                    at=now,
                    urgent=case.urgency == Urgency.urgent,
                    calendar=cal,
                )
            )
            continue
        if open_ or not settings.escalate:
            continue
        rounds = [
            int(r.payload.get("round", 0))
            for r in reminders_of(session, subject, rule=MEMO_ACK_ESCALATION)
        ]
        due = ack_deadline(cal, received_at=now, urgency=case.urgency, rules=settings.ack)
        round_ = max(rounds, default=0) + 1
        escalation = _escalation(case, due_at=due, round_=round_, rules=rules)
        if escalation is not None:
            scheduled.append(schedule_planned(session, escalation, at=now))
    return scheduled


def reminders_by_key(session: Session, key: str) -> Reminder | None:
    return session.exec(select(Reminder).where(Reminder.key == key)).first()


def _waiting():
    return select(Case).where(Case.state == CaseState.received, Case.acknowledged_at.is_(None))


ENSURE_BATCH = 200  # memos per transaction: memory stays flat, memos being sent do not wait long


@periodic("memo_ack_ensure", every=ENSURE_EVERY)
def _ensure_job(ctx: JobContext) -> None:
    with transaction(ctx.engine, write=False) as session:
        ids = list(session.exec(_waiting().with_only_columns(Case.id).order_by(Case.id)))
    for start in range(0, len(ids), ENSURE_BATCH):
        with transaction(ctx.engine) as session:
            ensure_ack_reminders(session, now=ctx.now, case_ids=ids[start : start + ENSURE_BATCH])
