"""Durable reminders: one row per message the bot must send at a given time.

A reminder says what it is about (its subject: a case, a meeting, a plan task …), for whom
(a member, an agency/team, or a channel), when it falls due, and which rule renders it. It holds
ids only — no personal data — so it may be listed, logged and put in idempotency keys.

    pending ──claim──► claimed ──dispatch──► sent       (handed to the outbox, same transaction)
       ▲                  │  └──────────────► cancelled  (no longer applies, or cancelled)
       └── lease expired ─┘  └──────────────► failed     (after MAX_ATTEMPTS; admins told)

The dispatcher (reminders/dispatcher.py) claims due rows atomically — `FOR UPDATE SKIP LOCKED` on
PostgreSQL, a single writer on SQLite — so two processes never take the same row, and a claim
whose process died is taken back after LEASE (models/queues/lease.py: fenced by a token, expired by
the real clock only).

Other features use this module's API with their own subject kinds and rules:
    schedule(…)  — idempotent on `key`;  move(…) / cancel(…) — every reminder of a subject;
    snooze(…) / mark_done(…) — the buttons on a reminder message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from models.base.db import transaction
from models.base.errors import DomainError
from models.base.prefix import starts_with
from models.base.upsert import as_loaded, insert_all_if_absent, inserted_id
from models.queues import lease, outbox
from models.queues.tables import (
    OPEN_REMINDER_STATES,
    Notice,
    Recipient,
    RecipientKind,
    Reminder,
    ReminderState,
    Subject,
    SubjectKind,
)

MAX_ATTEMPTS = 5  # dispatching a reminder is local work: a few tries, then admins are told
LEASE = lease.LEASE  # one lease for every queue (models/queues/lease.py), by the real clock
BATCH = 20  # rows per claim, so several processes share a large backlog


def _aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime; pass an aware datetime")
    return at


# --- scheduling ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One reminder to schedule (schedule_all): the arguments of schedule() as a value."""

    key: str
    subject: Subject
    rule: str
    recipient: Recipient
    due_at: datetime
    deliver_at: datetime
    urgent: bool = False
    payload: dict | None = None
    created_by_id: int | None = None
    snoozed_from_id: int | None = None


def _row(planned: Planned, at: datetime) -> dict:
    _aware(planned.due_at, "due_at")
    _aware(planned.deliver_at, "deliver_at")
    return dict(
        key=planned.key,
        subject_kind=SubjectKind(planned.subject.kind).value,
        subject_id=planned.subject.ref,
        rule=planned.rule,
        recipient_kind=RecipientKind(planned.recipient.kind).value,
        recipient=planned.recipient.ref,
        payload=dict(planned.payload or {}),
        urgent=planned.urgent,
        state=ReminderState.pending.value,
        due_at=planned.due_at,
        deliver_at=planned.deliver_at,
        next_attempt_at=planned.deliver_at,
        attempts=0,
        late=False,
        version=1,
        snoozed_from_id=planned.snoozed_from_id,
        created_by_id=planned.created_by_id,
        created_at=at,
        updated_at=at,
    )


def schedule(session: Session, *, at: datetime, **planned) -> Reminder:
    """Schedule a reminder (the fields of Planned); idempotent on `key` (the existing row is
    returned unchanged).

    `deliver_at` is `due_at` moved into office hours by the business calendar (the caller
    computes it: reminders.dispatcher.plan() / schedule_reminder() do). A key is never reused:
    to schedule again after a change, include a version in the key, or use move().
    """
    return schedule_planned(session, Planned(**planned), at=at)


def schedule_planned(session: Session, planned: Planned, *, at: datetime) -> Reminder:
    """schedule() for a Planned value."""
    values = _row(planned, at)
    reminder_id = inserted_id(session, Reminder, **values)
    if reminder_id is None:  # scheduled before: that one stands
        return session.exec(select(Reminder).where(Reminder.key == values["key"])).one()
    return as_loaded(session, Reminder, id=reminder_id, **values)


def schedule_all(session: Session, planned: Iterable[Planned], *, at: datetime) -> None:
    """Schedule several reminders in one statement, each idempotent on its key; nothing is
    read back (a memo's two acknowledgement reminders: the hot path of every referral)."""
    insert_all_if_absent(session, Reminder, [_row(p, at) for p in planned])


def reminders_of(
    session: Session,
    subject: Subject,
    *,
    rule: str | None = None,
    states: Iterable[str] | None = None,
) -> list[Reminder]:
    query = select(Reminder).where(
        Reminder.subject_kind == SubjectKind(subject.kind).value,
        Reminder.subject_id == subject.ref,
    )
    if rule is not None:
        query = query.where(Reminder.rule == rule)
    if states is not None:
        query = query.where(Reminder.state.in_([str(s) for s in states]))
    return list(session.exec(query.order_by(Reminder.due_at, Reminder.id)))


def move(
    session: Session,
    *,
    subject: Subject,
    at: datetime,
    deliver: Callable[..., datetime],
    by: timedelta | None = None,
    to: datetime | None = None,
    rule: str | None = None,
) -> list[Reminder]:
    """Move the pending reminders of a subject (a meeting moved): `by` a shift, or `to` a time.

    `deliver(due, urgent=…)` is the calendar rule (BusinessCalendar.deliver_at). Reminders
    already sent stay sent; schedule new ones with a new key if they must be sent again.
    """
    if (by is None) == (to is None):
        raise ValueError("move: give exactly one of by= or to=")
    moved = []
    for reminder in reminders_of(session, subject, rule=rule, states=[ReminderState.pending]):
        due = reminder.due_at + by if by is not None else _aware(to, "to")
        reminder.due_at = due
        reminder.deliver_at = deliver(due, urgent=reminder.urgent)
        reminder.next_attempt_at = reminder.deliver_at
        reminder.updated_at = at
        session.add(reminder)
        moved.append(reminder)
    return moved


def cancel(
    session: Session,
    *,
    subject: Subject,
    at: datetime,
    reason: str = "cancelled",
    rule: str | None = None,
    recipient: str | None = None,
) -> int:
    """Cancel every reminder of a subject not yet sent (the meeting was cancelled, …), or only
    those of one recipient (`recipient`: a Reminder.recipient, e.g. an attendee taken off).

    A row a dispatcher is working on right now is cancelled too; the dispatcher checks its
    claim under a row lock, so the reminder is either sent before the cancel or not at all.
    """
    query = (
        update(Reminder)
        .where(
            Reminder.subject_kind == SubjectKind(subject.kind).value,
            Reminder.subject_id == subject.ref,
            Reminder.state.in_([s.value for s in OPEN_REMINDER_STATES]),
        )
        .values(state=ReminderState.cancelled, last_error=reason[:200], updated_at=at)
    )
    if rule is not None:
        query = query.where(Reminder.rule == rule)
    if recipient is not None:
        query = query.where(Reminder.recipient == recipient)
    return session.execute(query).rowcount or 0


def reminder_by_id(session: Session, reminder_id: int) -> Reminder:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None:
        raise DomainError("reminder.not_found")
    return reminder


def follow_up_of(session: Session, reminder_id: int) -> Reminder | None:
    """The snoozed copy of a reminder, if someone pressed 明日また / 1週間後 on it."""
    return session.exec(
        select(Reminder).where(Reminder.snoozed_from_id == reminder_id).order_by(Reminder.id)
    ).first()


def snooze(
    session: Session,
    *,
    reminder: Reminder,
    due_at: datetime,
    deliver_at: datetime,
    by_member_id: int,
    at: datetime,
) -> Reminder:
    """Remind again later (明日また / 1週間後); one follow-up per message, moved on a re-press."""
    if reminder.state != ReminderState.sent:
        raise DomainError("reminder.not_sent_yet")
    if reminder.done_at is not None:
        raise DomainError("reminder.already_done")
    existing = follow_up_of(session, reminder.id)
    reminder.version += 1  # its message shows the new time
    reminder.updated_at = at
    session.add(reminder)
    if existing is not None:
        if existing.state != ReminderState.pending:
            raise DomainError("reminder.already_followed_up")
        existing.due_at = due_at
        existing.deliver_at = deliver_at
        existing.next_attempt_at = deliver_at
        existing.created_by_id = by_member_id
        existing.updated_at = at
        session.add(existing)
        return existing
    return schedule(
        session,
        key=f"snooze:{reminder.id}",
        subject=reminder.subject,
        rule=reminder.rule,
        recipient=Recipient(RecipientKind(reminder.recipient_kind), reminder.recipient),
        due_at=due_at,
        deliver_at=deliver_at,
        at=at,
        urgent=reminder.urgent,
        payload=reminder.payload,
        created_by_id=by_member_id,
        snoozed_from_id=reminder.id,
    )


def mark_done(session: Session, *, reminder: Reminder, by_member_id: int, at: datetime) -> int:
    """対応しました: record who handled it, and cancel what is still pending of the same rule."""
    if reminder.done_at is not None:
        raise DomainError("reminder.already_done")
    if reminder.state != ReminderState.sent:
        raise DomainError("reminder.not_sent_yet")
    reminder.done_at = at
    reminder.done_by_id = by_member_id
    reminder.version += 1
    reminder.updated_at = at
    session.add(reminder)
    return cancel(session, subject=reminder.subject, rule=reminder.rule, at=at, reason="done")


def refresh_messages(session: Session, *, reminder: Reminder, at: datetime) -> int:
    """Queue a chat.update of every message of this reminder, so they show its current state."""
    posted = session.exec(
        select(Notice).where(
            Notice.kind == "reminder",
            starts_with(Notice.key, f"reminder:{reminder.id}:"),
        )
    )
    queued = 0
    for notice in posted:
        queued += outbox.enqueue(
            session,
            key=f"reminder:{reminder.id}:refresh:{notice.id}:v{reminder.version}",
            kind="reminder_refresh",
            target=notice.target,
            payload={"reminder_id": reminder.id, "notice_id": notice.id},
            at=at,
        )
    return queued


def retire(
    session: Session,
    reminder: Reminder,
    *,
    event: str,
    at: datetime,
    by_member_id: int | None = None,
    detail: dict | None = None,
) -> int:
    """One posted reminder whose request is over: what ended it — the event, who, when, and
    `detail` (ids and times only, e.g. where a meeting moved) — goes into its payload, and its
    messages are queued for a chat.update that says so."""
    ended = {
        **(detail or {}),
        "event": event,
        "by": by_member_id,
        "at": _aware(at, "at").isoformat(),
    }
    reminder.payload = {**(reminder.payload or {}), "ended": ended}
    reminder.version += 1
    reminder.updated_at = at
    session.add(reminder)
    return refresh_messages(session, reminder=reminder, at=at)


def sent_of(session: Session, subject: Subject) -> list[Reminder]:
    """The reminders of `subject` already posted."""
    return list(reminders_of(session, subject, states=[ReminderState.sent.value]))


def retire_sent(
    session: Session,
    *,
    subject: Subject,
    event: str,
    at: datetime,
    by_member_id: int | None = None,
) -> int:
    """The reminders of `subject` already posted, once what they asked for is over (a meeting
    cancelled or held, a plan evaluated): each retired (see retire)."""
    return sum(
        retire(session, r, event=event, at=at, by_member_id=by_member_id)
        for r in sent_of(session, subject)
    )


def ended_by(reminder: Reminder) -> tuple[str, int | None, datetime] | None:
    """What retire recorded: (event, member id, when), or None."""
    ended = (reminder.payload or {}).get("ended")
    if not isinstance(ended, dict) or "event" not in ended or "at" not in ended:
        return None
    return str(ended["event"]), ended.get("by"), datetime.fromisoformat(ended["at"])


def ended_detail(reminder: Reminder) -> dict:
    """The detail retire recorded with the event ({} when none)."""
    ended = (reminder.payload or {}).get("ended")
    return dict(ended) if isinstance(ended, dict) else {}


def listing(session: Session, *, include_closed: bool = False) -> list[Reminder]:
    query = select(Reminder)
    if not include_closed:
        query = query.where(Reminder.state.in_([s.value for s in OPEN_REMINDER_STATES]))
    return list(session.exec(query.order_by(Reminder.next_attempt_at, Reminder.id)))


# --- claiming (the dispatcher) ----------------------------------------------------------------


def claim_due(engine: Engine, *, now: datetime, worker: str, limit: int = BATCH) -> list[Reminder]:
    """Atomically claim due reminders for this worker; two workers never get the same row. A
    claim whose worker died goes back to pending; the outbox key keeps its notice single."""
    due = (
        select(Reminder.id)
        .where(Reminder.state == ReminderState.pending, Reminder.next_attempt_at <= now)
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers instead
    )
    with transaction(engine) as session:
        return lease.claim(
            session,
            Reminder,
            due,
            token=worker,
            states=(ReminderState.pending.value, ReminderState.claimed.value),
            lapsed={"last_error": "lease_expired"},
        )


RESTORED = "restored"  # last_error of an open row brought back by a restore


def mark_restored(engine: Engine) -> int:
    """After a restore: open reminders may have been sent after the backup; their notices are
    queued with `verify` (reminders/dispatcher.py), so Slack is checked before posting."""
    with transaction(engine) as session:
        result = session.execute(
            update(Reminder)
            .where(Reminder.state.in_([s.value for s in OPEN_REMINDER_STATES]))
            .values(state=ReminderState.pending.value, claimed_by=None, last_error=RESTORED)
        )
        return result.rowcount or 0


def held(session: Session, reminder_id: int, worker: str) -> Reminder | None:
    """The reminder, locked, if this worker still holds its claim (else None: leave it alone)."""
    reminder = session.exec(
        select(Reminder).where(Reminder.id == reminder_id).with_for_update()
    ).first()
    if reminder is None or reminder.state != ReminderState.claimed:
        return None
    if reminder.claimed_by != worker:
        return None
    return reminder


# --- configuration: the acknowledgement deadlines (org file [reminders]) -----------------------
