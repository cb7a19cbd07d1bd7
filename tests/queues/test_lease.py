"""The lease claim: a row claimed by one worker is never claimed again by another.

On PostgreSQL a claim statement reads from the snapshot it started with; a claim another worker
commits while that statement waits must still count. The test makes the second statement wait
(on an advisory lock, after its snapshot is taken) while the first worker claims and commits.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import literal_column, select, text
from sqlmodel import Session

from models.base.db import transaction
from models.queues import lease, outbox
from models.queues.tables import Notice, NoticeState

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
GATE = 7_340_111  # an advisory lock number only this test uses


def _queue(engine, count: int) -> None:
    with transaction(engine) as session:
        for i in range(count):
            outbox.enqueue(
                session, key=f"lease-test:{i}", kind="test", target="C0TEST", payload={}, at=NOW
            )


def _claim(engine, worker: str, *, gated: bool) -> list[int]:
    # Like the outbox's `due`: the rows are chosen in a subquery (the outbox ranks them per
    # channel) and the locking select around it names no state of its own.
    chosen = select(Notice.id).where(
        Notice.state == NoticeState.pending.value, Notice.next_attempt_at <= NOW
    )
    if gated:  # waits here, inside the statement and after its snapshot, until the gate opens
        chosen = chosen.where(literal_column(f"(SELECT 1 FROM pg_advisory_xact_lock({GATE}))") == 1)
    due = select(Notice.id).where(Notice.id.in_(chosen)).with_for_update(skip_locked=True)
    with transaction(engine) as session:
        rows = lease.claim(
            session,
            Notice,
            due,
            token=worker,
            states=(NoticeState.pending.value, NoticeState.sending.value),
            lapsed={"verify": True},
        )
        return [row.id for row in rows]


def test_a_claim_committed_while_another_claim_runs_is_not_taken_again(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time: no statement runs beside another claim")
    _queue(engine, 3)
    got: dict[str, list[int]] = {}
    with Session(engine) as holder:
        holder.execute(text(f"SELECT pg_advisory_lock({GATE})"))
        second = threading.Thread(target=lambda: got.update(b=_claim(engine, "b", gated=True)))
        second.start()
        with Session(engine) as probe:  # the second claim is waiting at the gate
            for _ in range(500):
                waiting = probe.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                ).scalar()
                if waiting:
                    break
                threading.Event().wait(0.01)
            assert waiting, "the second claim never reached the gate"
        got["a"] = _claim(engine, "a", gated=False)
        holder.execute(text(f"SELECT pg_advisory_unlock({GATE})"))
        holder.commit()
        second.join(timeout=10)
    assert len(got["a"]) == 3
    assert got["b"] == []  # the rows were already claimed: nothing is taken twice
    with Session(engine) as session:
        holders = {n.claimed_by.split("/")[0] for n in session.exec(select(Notice)).scalars()}
    assert holders == {"a"}
