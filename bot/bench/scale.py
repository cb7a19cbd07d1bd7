"""The scale part of the benchmark: a large synthetic database and the work that grows with it."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from bot.standin.signed import SignedSlack
from models.synthetic import generate_cases


def populate(engine: Engine, *, cases: int) -> None:
    generate_cases(engine, count=cases, start=datetime(2024, 12, 1, tzinfo=UTC), days=730)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def steps(sizes) -> list[tuple[str, str, Callable[[Engine], float]]]:
    """(what, target, step) — each step returns the seconds it took."""
    return []


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
