"""Finished clicks are deleted by the retention run after clicks.KEEP_FOR; pending or claimed
ones, and recent ones, stay (models/queues/clicks.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from models.base.db import transaction
from models.ops import retention
from models.queues import clicks
from models.queues.tables import Click, ClickState
from tests.conftest import START


def _click(engine, key: str, state: ClickState, done_days_ago: int | None) -> None:
    with transaction(engine) as session:
        clicks.enqueue(session, key=key, action="a", payload={"user": "U1"}, at=START)
        done_at = None if done_days_ago is None else START - timedelta(days=done_days_ago)
        session.execute(
            update(Click).where(Click.key == key).values(state=state.value, done_at=done_at)
        )


def test_the_retention_run_deletes_finished_clicks_after_thirty_days_only(engine):
    _click(engine, "old-done", ClickState.done, 31)
    _click(engine, "old-failed", ClickState.failed, 45)
    _click(engine, "recent-done", ClickState.done, 29)
    _click(engine, "pending", ClickState.pending, None)
    _click(engine, "claimed", ClickState.claimed, None)
    result = retention.run(engine, now=START)
    assert result.clicks_purged == 2
    with transaction(engine, write=False) as session:
        left = sorted(session.exec(select(Click.key)).all())
    assert left == ["claimed", "pending", "recent-done"]
    assert retention.run(engine, now=START).clicks_purged == 0  # again: nothing more


def test_a_dry_run_deletes_no_click(engine):
    _click(engine, "old-done", ClickState.done, 31)
    assert retention.run(engine, now=START, dry_run=True).clicks_purged == 0
    with transaction(engine, write=False) as session:
        assert session.exec(select(Click.key)).all() == ["old-done"]
