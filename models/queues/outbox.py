"""The outbox: every message sent outside a request is a row first, so none is lost or doubled.

A notice is written in the same transaction as the change it reports. The delivery loop
(bot/delivery.py) claims due rows, renders them from the current database state, sends them
and marks them sent. The idempotency `key` makes enqueueing the same notice twice harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, literal, or_, update
from sqlmodel import Session, select

from models.base.db import UTCDateTime, transaction
from models.base.prefix import starts_with
from models.base.upsert import insert_all_if_absent, insert_if_absent
from models.org.roster import channel_for, members_with_role
from models.org.tables import Role
from models.queues import lease
from models.queues.tables import Notice, NoticeState

MAX_ATTEMPTS = 8


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    target: str,
    payload: dict,
    at: datetime,
    due_at: datetime | None = None,
    verify: bool = False,
) -> bool:
    """Queue a notice; False if a notice with this key already exists (nothing doubled).

    `verify`: it may have been posted already (a reminder dispatched again after a restore),
    so the delivery loop looks for it in Slack first."""
    due = due_at or at
    return insert_if_absent(
        session,
        Notice,
        key=key,
        kind=kind,
        target=target,
        payload=payload,
        state=NoticeState.pending.value,
        due_at=due,
        next_attempt_at=due,
        attempts=0,
        verify=verify,
        created_at=at,
    )


def enqueue_all(session: Session, notices: list[dict], *, at: datetime) -> None:
    """Queue several notices (each: key, kind, target, payload) in one statement; keys already
    queued are skipped. For hot paths that need no answer (a memo's cards and receipt)."""
    rows = [
        dict(
            n,
            state=NoticeState.pending.value,
            due_at=at,
            next_attempt_at=at,
            attempts=0,
            verify=False,
            created_at=at,
        )
        for n in notices
    ]
    insert_all_if_absent(session, Notice, rows)


def claim_due(engine: Engine, *, now: datetime, worker: str, limit: int = 50) -> list[Notice]:
    """Atomically claim notices due at `now` for the claim token `worker` (models/queues/lease.py);
    two workers never get the same row. Oldest first, so one channel's messages keep order.
    A claim whose worker died (by the real clock) is put back, flagged so the sender checks Slack
    first."""
    # The oldest notice of each channel only, and none of a channel with one still being
    # sent: the next one of a channel waits for it (order, and Slack's pace of a message a
    # second), so claiming it now would only put it back again — a write per waiting
    # notice per round while a backlog drains — or let a second worker send out of order.
    unsent = or_(
        Notice.state == NoticeState.sending,
        and_(Notice.state == NoticeState.pending, Notice.next_attempt_at <= now),
    )
    ranked = (
        select(
            Notice.id,
            Notice.state,
            func.row_number()
            .over(partition_by=Notice.target, order_by=(Notice.next_attempt_at, Notice.id))
            .label("place"),
        )
        .where(unsent)
        .subquery()
    )
    first = select(ranked.c.id).where(ranked.c.place == 1, ranked.c.state == NoticeState.pending)
    due = (
        select(Notice.id)
        .where(Notice.id.in_(first), Notice.state == NoticeState.pending)
        .order_by(Notice.next_attempt_at, Notice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers instead
    )
    with transaction(engine) as session:
        return lease.claim(
            session,
            Notice,
            due,
            token=worker,
            states=(NoticeState.pending.value, NoticeState.sending.value),
            lapsed={"verify": True},
        )


def hold(engine: Engine, notice_id: int, *, worker: str) -> bool:
    """Immediately before a Slack call: still ours? Extends the lease (lease.hold) and notes
    when the notice first went to Slack, where the recovery starts reading history."""
    now = lease.wall_now()
    return lease.hold(
        engine,
        Notice,
        notice_id,
        token=worker,
        state=NoticeState.sending.value,
        extra={
            "first_attempt_at": func.coalesce(Notice.first_attempt_at, literal(now, UTCDateTime()))
        },
    )


def heartbeat(engine: Engine, ids: list[int], *, worker: str) -> lease.Heartbeat:
    return lease.Heartbeat(engine, Notice, ids, token=worker, state=NoticeState.sending.value)


def release(engine: Engine, ids: list[int], *, worker: str) -> int:
    """A normal stop mid-batch: give the unsent rows back at once (not counted as attempts)."""
    return lease.release(
        engine,
        Notice,
        ids,
        token=worker,
        state=NoticeState.sending.value,
        values={"state": NoticeState.pending.value, "attempts": Notice.attempts - 1},
    )


def mark_restored(engine: Engine) -> int:
    """After a restore: every notice the backup had not sent may have gone out since; each is
    looked for in Slack before it is sent (bot/delivery.py)."""
    with transaction(engine) as session:
        result = session.execute(
            update(Notice)
            .where(Notice.state.in_([NoticeState.pending.value, NoticeState.sending.value]))
            .values(state=NoticeState.pending.value, verify=True, claimed_by=None)
        )
        return result.rowcount or 0


def _update(engine: Engine, notice_id: int, worker: str, **values: object) -> bool:
    """Change a claimed notice, only while this worker still holds the claim."""
    with transaction(engine) as session:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.state != NoticeState.sending or notice.claimed_by != worker:
            return False
        for name, value in values.items():
            setattr(notice, name, value)
        session.add(notice)
        return True


def mark_sent(
    engine: Engine,
    notice_id: int,
    *,
    worker: str,
    at: datetime,
    channel: str | None,
    ts: str | None,
) -> bool:
    return _update(
        engine,
        notice_id,
        worker,
        state=NoticeState.sent,
        sent_at=at,
        result_channel=channel,
        result_ts=ts,
        last_error=None,
        verify=False,
    )


def mark_retry(
    engine: Engine,
    notice_id: int,
    *,
    worker: str,
    at: datetime,
    error: str,
    count: bool = True,
    maybe_sent: bool = False,
) -> bool:
    """Put a claimed notice back for later. `count=False`: not the notice's fault (429, waiting).

    `maybe_sent`: the request may have reached Slack (network error, 5xx), so the next attempt
    looks for the message before posting again.
    """
    with transaction(engine) as session:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.state != NoticeState.sending or notice.claimed_by != worker:
            return False
        notice.state = NoticeState.pending
        notice.next_attempt_at = at
        notice.last_error = error[:200]
        notice.claimed_by = None
        if not count:
            notice.attempts -= 1
        notice.verify = notice.verify or maybe_sent
        session.add(notice)
        # Later messages to the same channel wait behind this one, so they keep their order.
        session.execute(
            update(Notice)
            .where(
                Notice.target == notice.target,
                Notice.state == NoticeState.pending,
                Notice.id > notice.id,
                Notice.next_attempt_at < at,
            )
            .values(next_attempt_at=at)
        )
        return True


def mark_failed(engine: Engine, notice_id: int, *, worker: str, error: str) -> bool:
    return _update(engine, notice_id, worker, state=NoticeState.failed, last_error=error[:200])


def mark_cancelled(engine: Engine, notice_id: int, *, worker: str, reason: str) -> bool:
    return _update(engine, notice_id, worker, state=NoticeState.cancelled, last_error=reason)


def pass_on(
    session: Session, notice_id: int, *, worker: str, error: str, then: dict, at: datetime
) -> bool:
    """Hand a claimed notice that cannot reach its target to another way of saying the same
    (`then`: key, kind, target, payload), in one transaction: the first is cancelled with the
    reason, the second queued — so exactly one of them is ever sent."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.state != NoticeState.sending or notice.claimed_by != worker:
        return False
    notice.state = NoticeState.cancelled
    notice.last_error = f"passed on: {error}"[:200]
    session.add(notice)
    enqueue(session, at=at, **then)
    return True


def backoff(attempts: int) -> timedelta:
    """Wait before retry `attempts`: 10 s, 20 s, 40 s … capped at 30 minutes."""
    return min(timedelta(seconds=10 * 2 ** max(attempts - 1, 0)), timedelta(minutes=30))


def sent_notices_for(session: Session, *, kind: str, key_prefix: str) -> list[Notice]:
    rows = session.exec(
        select(Notice).where(Notice.kind == kind, starts_with(Notice.key, key_prefix))
    )
    return list(rows)


def queue_failure_alert(session: Session, failed: Notice, *, error: str, at: datetime) -> None:
    """Tell the admins a message could not be delivered (never about an alert itself)."""

    if failed.kind == "delivery_failed":
        return
    admin_channel = channel_for(session, "admin")
    targets = (
        [admin_channel]
        if admin_channel
        else [m.slack_id for m in members_with_role(session, Role.admin)]
    )
    for target in targets:
        enqueue(
            session,
            key=f"alert:notice:{failed.id}:{target}",
            kind="delivery_failed",
            target=target,
            payload={
                "notice_id": failed.id,
                "kind": failed.kind,
                "target": failed.target,
                "error": error[:100],
            },
            at=at,
        )
