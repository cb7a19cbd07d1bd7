"""The dispatcher: turns due reminders into outbox notices — never twice, never lost.

Each round:
  1. claim due rows atomically (models.reminders.claim_due: row locks / a single writer);
  2. for each, in its own transaction, while still holding the claim:
       - outside office hours and not urgent → wait for the next opening (not an attempt);
       - its rule says it no longer applies (memo already taken …) → cancelled;
       - else queue one notice per Slack target, idempotency key `reminder:<id>:<target>`,
         and mark the reminder sent — in the same transaction, so either both happen or neither.
  3. a reminder that raises is retried with backoff; after MAX_ATTEMPTS it fails and the
     admins are told. A process that dies holding claims loses them after the LEASE.

The outbox (bot/delivery.py) then sends, retries on 429/5xx and paces. A notice's due time is
the reminder's planned delivery time, so one sent well after it (the bot was down) says 遅延.
"""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from models.base.db import transaction
from models.cases.destinations import card_targets
from models.org.roster import channel_for, coordinator_agency, members_with_role
from models.org.tables import Agency, Member, Role
from models.queues import lease, outbox
from models.queues import reminders as store
from models.queues.tables import RecipientKind, Reminder, ReminderState
from reminders.deadlines import calendar_for
from reminders.rules import rule_for

log = logging.getLogger("tsunagi.reminders")

LATE_AFTER = timedelta(minutes=10)  # as bot.delivery.LATE_AFTER: later than this is 遅延
NOTICE_KIND = "reminder"


def worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


@dataclass
class DispatchResult:
    sent: list[int] = field(default_factory=list)  # reminder ids handed to the outbox
    cancelled: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    notices: int = 0  # notices queued

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.cancelled) + len(self.failed)


class _Unsendable(Exception):
    """A permanent problem with a reminder (unknown rule): fail at once, tell the admins."""


def dispatch_due(
    engine: Engine, *, now: datetime, worker: str | None = None, batch: int = store.BATCH
) -> DispatchResult:
    """Claim and dispatch every reminder due at `now`. Safe to run in several processes."""
    worker = worker or worker_id()
    result = DispatchResult()
    # Each claim gets its own token (models/queues/lease.py): a row reclaimed after our lease
    # ran out is no longer ours, whatever this clock says; the heartbeat keeps a long batch ours.
    while claimed := store.claim_due(
        engine, now=now, worker=(token := lease.new_token(worker)), limit=batch
    ):
        ids = [r.id for r in claimed]
        with lease.Heartbeat(
            engine, Reminder, ids, token=token, state=ReminderState.claimed.value
        ) as beat:
            for reminder_id in ids:
                _dispatch_one(engine, reminder_id, worker=token, now=now, result=result)
                beat.done(reminder_id)
    return result


def _dispatch_one(
    engine: Engine, reminder_id: int, *, worker: str, now: datetime, result: DispatchResult
) -> None:
    try:
        with transaction(engine) as session:
            reminder = store.held(session, reminder_id, worker)
            if reminder is None:  # cancelled meanwhile, or our claim expired: not ours
                return
            if reminder.attempts > store.MAX_ATTEMPTS:  # claims that keep dying with their process
                raise _Unsendable("too_many_attempts")
            outcome = _decide(session, reminder, now=now)
            queued = _hand_over(session, reminder, now=now) if outcome == "sent" else 0
        getattr(result, outcome).append(reminder_id)  # after the commit: it happened
        result.notices += queued
    except _Unsendable as exc:
        _failed(
            engine, reminder_id, worker=worker, now=now, error=str(exc), result=result, retry=False
        )
    except Exception as exc:  # a bug or a database hiccup: try again later, then give up
        log.error("reminder %s could not be dispatched: %s", reminder_id, type(exc).__name__)
        _failed(
            engine, reminder_id, worker=worker, now=now, error=type(exc).__name__, result=result
        )


def _release(reminder: Reminder, *, at: datetime, now: datetime, error: str | None) -> None:
    reminder.state = ReminderState.pending
    reminder.next_attempt_at = at
    reminder.claimed_by = None
    reminder.last_error = error
    reminder.updated_at = now


def _decide(session: Session, reminder: Reminder, *, now: datetime) -> str:
    rule = rule_for(reminder.rule)
    if rule is None:
        raise _Unsendable(f"unknown_rule:{reminder.rule}"[:200])
    cal = calendar_for(session)
    planned = cal.deliver_at(reminder.due_at, urgent=reminder.urgent)
    if planned > now:
        # The calendar changed since scheduling (a new closed day): wait, not an attempt.
        reminder.deliver_at = planned
        reminder.attempts -= 1
        _release(reminder, at=planned, now=now, error=None)
        session.add(reminder)
        return "deferred"
    if not reminder.urgent and not cal.is_open(now) and now - reminder.deliver_at > LATE_AFTER:
        # Overdue from an outage, and the office is closed now: the next opening, not tonight.
        reminder.attempts -= 1
        _release(reminder, at=cal.next_opening(now), now=now, error="office_closed")
        session.add(reminder)
        return "deferred"
    if not rule.applies(session, reminder):
        reminder.state = ReminderState.cancelled
        reminder.last_error = "no_longer_applies"
        reminder.updated_at = now
        session.add(reminder)
        return "cancelled"
    return "sent"


def targets(session: Session, reminder: Reminder) -> list[str]:
    """The Slack conversations a reminder goes to; the coordinator when nobody else is left."""
    found: list[str] = []
    rule = rule_for(reminder.rule)
    current = rule.recipient(session, reminder) if rule and rule.recipient else None
    if current is not None:  # the row records to whom it actually went (and who may answer)
        reminder.recipient_kind, reminder.recipient = current.kind.value, current.ref
    kind = RecipientKind(reminder.recipient_kind)
    if kind is RecipientKind.channel:
        found = [reminder.recipient]
    elif kind is RecipientKind.member:
        member = session.get(Member, int(reminder.recipient))
        found = [member.slack_id] if member is not None and member.active else []
    elif kind is RecipientKind.agency:
        agency = session.get(Agency, int(reminder.recipient))
        found = card_targets(session, agency) if agency is not None and agency.active else []
    if not found:
        coordinator = coordinator_agency(session)
        found = card_targets(session, coordinator) if coordinator is not None else []
    return list(dict.fromkeys(found))


def _hand_over(session: Session, reminder: Reminder, *, now: datetime) -> int:
    to = targets(session, reminder)
    if not to:
        raise _Unsendable("no_recipient")
    for target in to:
        outbox.enqueue(
            session,
            key=f"reminder:{reminder.id}:{target}",
            kind=NOTICE_KIND,
            target=target,
            payload={"reminder_id": reminder.id},
            at=now,
            due_at=reminder.deliver_at,  # so the delivery loop marks a late one 遅延
            verify=reminder.last_error == store.RESTORED,  # it may have gone out before
        )
    reminder.state = ReminderState.sent
    reminder.sent_at = now
    reminder.late = now - reminder.deliver_at > LATE_AFTER
    reminder.last_error = None
    reminder.updated_at = now
    session.add(reminder)
    rule = rule_for(reminder.rule)
    if rule is not None and rule.after_sent is not None:
        rule.after_sent(session, reminder, now)
    return len(to)


def _failed(
    engine: Engine,
    reminder_id: int,
    *,
    worker: str,
    now: datetime,
    error: str,
    result: DispatchResult,
    retry: bool = True,
) -> None:
    """A dispatch that did not work: tried again later while attempts remain (and `retry`),
    else marked failed and the admins told. Only while this worker still holds the reminder."""
    with transaction(engine) as session:
        reminder = store.held(session, reminder_id, worker)
        if reminder is None:
            return
        if retry and reminder.attempts < store.MAX_ATTEMPTS:
            _release(reminder, at=now + outbox.backoff(reminder.attempts), now=now, error=error)
            session.add(reminder)
            result.retried.append(reminder_id)
            return
        reminder.state = ReminderState.failed
        reminder.last_error = error[:200]
        reminder.updated_at = now
        session.add(reminder)
        _alert_admins(session, reminder, error=error, at=now)
        result.failed.append(reminder_id)
    log.warning("reminder %s (%s) failed: %s", reminder_id, reminder.rule, error)


def _alert_admins(session: Session, reminder: Reminder, *, error: str, at: datetime) -> None:
    """The same alert the delivery loop sends for a message it could not deliver."""
    admin_channel = channel_for(session, "admin")
    to = (
        [admin_channel]
        if admin_channel
        else [m.slack_id for m in members_with_role(session, Role.admin)]
    )
    for target in to:
        outbox.enqueue(
            session,
            key=f"alert:reminder:{reminder.id}:{target}",
            kind="delivery_failed",
            target=target,
            payload={
                "reminder_id": reminder.id,
                "kind": f"reminder/{reminder.rule}",
                "target": f"{reminder.recipient_kind}:{reminder.recipient}",
                "error": error[:100],
            },
            at=at,
        )
