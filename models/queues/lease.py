"""One lease-claim mechanism for every queue: outbox notices (Link-net posts among them),
reminder rows and stored clicks; and, at the end, the named lease of a job only one process may
run at a time (the partner doors' keeper).

A claim writes a fresh *token* (the worker's id and a random generation) into the row's
`claimed_by` and the real time into `claimed_at`. The token fences the claim: every later change
— extending it before a Slack call, marking the row done, giving it back — names the token and
touches the row only while the token is still there. A claim is expired only when the *wall
clock* says so: a process running with a frozen clock (`send-due --at`) decides what is due by
its clock, never whether another process's claim has lapsed.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Select, update
from sqlmodel import Session, select

from models.base.db import transaction
from models.base.upsert import insert_if_absent


def _seconds(name: str, default: float) -> float:
    """A length from the environment (tests use seconds); nonsense falls back to the default."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0.2 <= value <= 3600 else default


# A claim not renewed for this long belongs to a process that died (the heartbeat renews every
# third of it). 90 s + the 5 s poll keeps the longest delay after a crash under 2 minutes.
LEASE = timedelta(seconds=_seconds("TSUNAGI_LEASE_SECONDS", 90))


def wall_now() -> datetime:
    """The real time: only this decides whether a claim has expired."""
    return datetime.now(UTC)


def new_token(worker: str) -> str:
    return f"{worker[:48]}/{uuid.uuid4().hex[:12]}"


def expired_before() -> datetime:
    return wall_now() - LEASE


def claim(
    session: Session, table, due: Select, *, token: str, states: tuple[str, str], lapsed: dict
):
    """In `session`: first put back the claims whose lease ran out (by the wall clock), with
    `lapsed` set on them; then claim the rows whose ids `due` selects for `token`.

    `states`: (waiting, claimed). The rows are returned oldest first; attempts are counted.
    Two workers never get the same row (PostgreSQL: `due` skips locked rows; SQLite: one writer).
    """
    waiting, claimed = states
    session.execute(
        update(table)
        .where(table.state == claimed, table.claimed_at < expired_before())
        .values(state=waiting, claimed_by=None, **lapsed)
    )
    # Two statements on purpose: the rows are chosen (and on PostgreSQL locked) once. Inside
    # an UPDATE the planner may re-run a LIMIT … FOR UPDATE subquery per row and take more
    # rows than asked (seen: 30 for a limit of 20).
    chosen = list(session.execute(due).scalars())
    if not chosen:
        return []
    taken = session.execute(
        update(table)
        # The state is checked again on the row itself: on PostgreSQL a claim another worker
        # committed while `due` ran is seen here, although `due` read an older snapshot.
        .where(table.id.in_(chosen), table.state == waiting)
        .values(
            state=claimed,
            claimed_by=token,
            claimed_at=wall_now(),
            attempts=table.attempts + 1,
        )
        .returning(table.id)
    )
    ids = [row[0] for row in taken]
    if not ids:
        return []
    return list(session.exec(select(table).where(table.id.in_(ids)).order_by(table.id)))


def hold(
    engine: Engine, table, row_id: int, *, token: str, state: str, extra: dict | None = None
) -> bool:
    """Atomically check that `token` still holds the row and extend its lease.

    Called immediately before each Slack call: False means the row passed to someone else
    (or was cancelled) and must be left alone.
    """
    return bool(renew(engine, table, [row_id], token=token, state=state, extra=extra))


def renew(
    engine: Engine,
    table,
    ids: Iterable[int],
    *,
    token: str,
    state: str,
    extra: dict | None = None,
) -> set[int]:
    """Extend the lease of every row in `ids` still held by `token`; returns those rows."""
    ids = list(ids)
    if not ids:
        return set()
    with transaction(engine) as session:
        rows = session.execute(
            update(table)
            .where(table.id.in_(ids), table.claimed_by == token, table.state == state)
            .values(claimed_at=wall_now(), **(extra or {}))
            .returning(table.id)
        )
        return {row[0] for row in rows}


def release(
    engine: Engine, table, ids: Iterable[int], *, token: str, state: str, values: dict
) -> int:
    """Give rows back at once (a normal stop mid-batch), only those this token still holds."""
    ids = list(ids)
    if not ids:
        return 0
    with transaction(engine) as session:
        result = session.execute(
            update(table)
            .where(table.id.in_(ids), table.claimed_by == token, table.state == state)
            .values(claimed_by=None, **values)
        )
        return result.rowcount or 0


class Heartbeat:
    """Renews a batch's leases while it runs, so a slow batch (a slow Slack, many 429s) is never
    taken over by another process. Use as a context manager around the batch."""

    def __init__(self, engine: Engine, table, ids: Iterable[int], *, token: str, state: str):
        self.engine, self.table, self.token, self.state = engine, table, token, state
        self._ids = set(ids)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tsunagi-lease", daemon=True)

    def done(self, row_id: int) -> None:
        with self._lock:
            self._ids.discard(row_id)

    def _run(self) -> None:
        interval = LEASE.total_seconds() / 3
        while not self._stop.wait(interval):
            with self._lock:
                ids = set(self._ids)
            try:
                held = renew(self.engine, self.table, ids, token=self.token, state=self.state)
            except Exception:  # a database hiccup: the next beat tries again
                continue
            with self._lock:
                self._ids &= held | (self._ids - ids)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# --- one process at a time: a named lease -----------------------------------------------------


def claim_named(
    session: Session, table, key: str, *, holder: str, now: float, seconds: float
) -> bool:
    """Take, or renew, the lease `key` for `seconds` from `now` (wall-clock seconds); False while
    another holder's runs. `table` is a key/value table (the org settings): the row is written in
    a write transaction (SQLite: one writer at a time; PostgreSQL: the row is locked until commit),
    so two processes never hold it at once."""
    insert_if_absent(session, table, key=key, value=None)
    row = session.exec(select(table).where(table.key == key).with_for_update()).one()
    held = row.value if isinstance(row.value, dict) else {}
    if held.get("by") not in (None, holder) and float(held.get("until") or 0) > now:
        return False
    row.value = {"by": holder, "until": now + seconds}
    session.add(row)
    return True


def release_named(session: Session, table, key: str, *, holder: str) -> None:
    """Give the lease `key` back, if `holder` still has it."""
    row = session.exec(select(table).where(table.key == key).with_for_update()).first()
    if row is not None and isinstance(row.value, dict) and row.value.get("by") == holder:
        row.value = None
        session.add(row)
