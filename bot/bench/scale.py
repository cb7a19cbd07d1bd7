"""The scale part of the benchmark: a large synthetic database and the work that grows with it."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, insert
from sqlmodel import select

from bot.standin.signed import SignedSlack
from models.db import transaction
from models.synthetic import generate_cases


def populate(engine: Engine, *, cases: int) -> None:
    generate_cases(engine, count=cases, start=datetime(2024, 12, 1, tzinfo=UTC), days=730)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # a Friday morning in Tatsuno


def app_home(engine: Engine) -> float:
    """Build and render the coordinator's desk, as the bot does on app_home_opened."""
    from handlers.home import build_desk
    from handlers.views.home import home_view
    from models.org import Member, Role

    with transaction(engine, write=False) as session:
        coordinator = next(m for m in session.exec(select(Member)) if m.has(Role.coordinator))
        started = time.perf_counter()
        home_view(build_desk(session, coordinator, now=NOW), now=NOW).to_dict()
        return time.perf_counter() - started


def claim_reminders(engine: Engine, count: int) -> float:
    """Insert `count` due reminders, then time claiming them all (the dispatcher's first step)."""
    from models.reminders import Reminder, claim_due

    rows = [
        {
            "key": f"bench:{i}",
            "subject_kind": "case",
            "subject_id": str(i + 1),
            "rule": "memo_ack",
            "recipient_kind": "channel",
            "recipient": "C0BCOORD",
            "payload": {},
            "urgent": False,
            "state": "pending",
            "due_at": NOW,
            "deliver_at": NOW,
            "next_attempt_at": NOW,
            "attempts": 0,
            "late": False,
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(count)
    ]
    with transaction(engine) as session:
        session.execute(insert(Reminder), rows)
    started = time.perf_counter()
    claimed = 0
    while batch := claim_due(engine, now=NOW, worker="bench", limit=500):
        claimed += len(batch)
    elapsed = time.perf_counter() - started
    assert claimed == count, (claimed, count)
    return elapsed


def steps(sizes) -> list[tuple[str, str, Callable[[Engine], float]]]:
    """(what, target, step) — each step returns the seconds it took."""
    return [
        ("render the coordinator's App Home", "target: < 200 ms", app_home),
        (
            f"claim {sizes.scale_reminders:,} due reminders",
            "target: < 2 s",
            lambda engine: claim_reminders(engine, sizes.scale_reminders),
        ),
    ]


def exercise_bot(slack: SignedSlack, control: str, coordinator: str) -> None:
    """Make the running bot do its heaviest read: the coordinator's App Home."""
    answer = slack.event(
        {"type": "app_home_opened", "user": coordinator, "tab": "home", "channel": "D0B"},
        event_id=f"EvBench{time.time_ns()}",
    )
    assert answer.status == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(control + "counts", timeout=10) as response:
            if any(k.startswith("views.publish") for k in json.load(response)):
                return
        time.sleep(0.1)
