"""Clicks on channel cards, taken at the door and done by the worker (models/queues/lease.py).

The door stores the click and answers Slack; the worker claims it, does the action and marks it
done in the action's own transaction, under the claim's token: a crash, a second worker or a
restore does the action at most once, and a click never done is taken again after the lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, select

from models.base.db import transaction
from models.base.upsert import insert_if_absent
from models.queues import lease
from models.queues.tables import Click, ClickState

MAX_ATTEMPTS = 3  # an action that failed this often is answered with the failure
RESTORED = "restored"  # in a click's payload: it was open in a backup restored since
# A finished click's row is kept this long: ids only, but nothing needs it once Slack's retries
# (minutes) are long over; the retention run deletes it then (models/ops/retention.py).
KEEP_FOR = timedelta(days=30)


def enqueue(session: Session, *, key: str, action: str, payload: dict, at: datetime) -> bool:
    """Store a click; False if this click (its key) was stored already."""
    return insert_if_absent(
        session,
        Click,
        key=key,
        action=action,
        payload=payload,
        state=ClickState.pending.value,
        next_attempt_at=at,
        attempts=0,
        created_at=at,
    )


def claim_due(engine: Engine, *, now: datetime, worker: str, limit: int = 20) -> list[Click]:
    """Claim the clicks due at `now` for the token `worker`, oldest first."""
    due = (
        select(Click.id)
        .where(Click.state == ClickState.pending, Click.next_attempt_at <= now)
        .order_by(Click.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers instead
    )
    with transaction(engine) as session:
        return lease.claim(
            session,
            Click,
            due,
            token=worker,
            states=(ClickState.pending.value, ClickState.claimed.value),
            lapsed={},
        )


def _fenced(click_id: int, worker: str):
    return update(Click).where(
        Click.id == click_id, Click.claimed_by == worker, Click.state == ClickState.claimed
    )


def finish(session: Session, click_id: int, *, worker: str, at: datetime, error=None) -> bool:
    """In the action's transaction: mark the click done (or failed, with `error`), only while
    `worker` still holds it. False: it passed to another worker; the caller must roll back."""
    state = ClickState.done if error is None else ClickState.failed
    result = session.execute(
        _fenced(click_id, worker).values(state=state.value, done_at=at, last_error=error)
    )
    return result.rowcount == 1


def retry(
    engine: Engine, click_id: int, *, worker: str, at: datetime, error: str, count: bool = True
) -> bool:
    """Put a claimed click back for another attempt at `at`. `count=False`: not the click's
    fault (the database was busy), so the claim's attempt is given back."""
    with transaction(engine) as session:
        result = session.execute(
            _fenced(click_id, worker).values(
                state=ClickState.pending.value,
                claimed_by=None,
                next_attempt_at=at,
                last_error=error[:200],
                attempts=Click.attempts - (0 if count else 1),
            )
        )
        return result.rowcount == 1


def mark_restored(engine: Engine) -> int:
    """After a restore: a click the backup holds undone was almost surely done and answered
    after the backup was taken (clicks are done within seconds). It is done again (the restored
    data lost its effect), but marked so that its answer is not sent a second time (an answer
    only to the person leaves nothing in Slack to look for). Returns how many."""
    with transaction(engine) as session:
        open_ = (ClickState.pending.value, ClickState.claimed.value)
        rows = list(session.exec(select(Click).where(Click.state.in_(open_))))
        for click in rows:
            click.payload = {**click.payload, RESTORED: True}  # a new dict: the JSON is rewritten
            click.state, click.claimed_by = ClickState.pending.value, None
            session.add(click)
        return len(rows)


def restored(click: Click) -> bool:
    return bool(click.payload.get(RESTORED))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 60))


def purge(session: Session, *, before: datetime) -> int:
    """Delete the clicks finished (done, or given up) before `before`; never a pending or
    claimed one. Returns how many."""
    finished = (ClickState.done.value, ClickState.failed.value)
    result = session.execute(delete(Click).where(Click.state.in_(finished), Click.done_at < before))
    return result.rowcount
