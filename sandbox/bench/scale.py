"""The scale part of the benchmark: a large synthetic database and the work that grows with it."""

from __future__ import annotations

import contextlib
import json
import statistics
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from importlib import import_module

from sqlalchemy import Engine, insert
from sqlmodel import Session, select

from handlers.home.listeners import build_desk
from handlers.home.views import home_view
from models.base.db import transaction
from models.linknet.acks import record_ack_deadlines
from models.linknet.figures import published
from models.linknet.periods import Month, last_complete_month
from models.linknet.posting import post, report
from models.org.tables import Member, Role
from models.queues.reminders import claim_due
from models.queues.tables import Reminder
from reminders.linknet_job import ack_deadline_function, posting_moment
from sandbox.standin.signed import SignedSlack
from sandbox.synthetic import generate_cases

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # a Friday morning in Tatsuno


def populate(engine: Engine, *, cases: int) -> None:
    """`cases` memos over the two years before NOW, with their cases' lives and the work after
    intake; then what two years of monthly posts would have left: the acknowledgement deadline
    of every memo received before this month's post (models/linknet/acks.py)."""

    generate_cases(engine, count=cases, start=NOW - timedelta(days=730), days=730, activity=True)
    with transaction(engine) as session:
        until = posting_moment(session, Month.of(NOW))
        record_ack_deadlines(session, deadline=ack_deadline_function(session), until=until)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def app_home(engine: Engine) -> float:
    """Build and render the coordinator's desk, as the bot does on app_home_opened."""

    with transaction(engine, write=False) as session:
        coordinator = next(m for m in session.exec(select(Member)) if m.has(Role.coordinator))
        started = time.perf_counter()
        home_view(build_desk(session, coordinator, now=NOW), now=NOW).to_dict()
        return time.perf_counter() - started


HOME_RUNS = 5


def app_home_again(engine: Engine) -> float:
    """The App Home of a bot that has served it before (its queries compiled, its modules
    loaded): the median of HOME_RUNS renderings, so one stall of a shared machine is not it."""
    return statistics.median(app_home(engine) for _ in range(HOME_RUNS))


@contextlib.contextmanager
def undone(engine: Engine) -> Iterator[Session]:
    """A transaction rolled back at the end: a step leaves the database as it found it, so each
    Link-net step builds its figures from the data alone, nothing published before."""
    # numpy and scipy load when figures are first audited; the running bot has them already.
    import_module("scipy.optimize")
    import_module("scipy.sparse")
    with Session(engine) as session:
        try:
            yield session
        finally:
            session.rollback()


def linknet_month(engine: Engine) -> float:
    """Post last month's Link-net figures, as the monthly job does (models/linknet/posting.post:
    record the new memos' deadlines, count every month since the start, disclosure control,
    publish into the ledger, queue the message and the chart)."""

    with undone(engine) as session:
        started = time.perf_counter()
        result = post(
            session,
            month=last_complete_month(NOW),
            now=NOW,
            deadline=ack_deadline_function(session),
        )
        elapsed = time.perf_counter() - started
    assert result.created
    return elapsed


def linknet_year(engine: Engine) -> float:
    """Make the yearly report of the last whole fiscal year under disclosure control and read it
    back, as `tsunagi report fy` does (models/linknet/posting.report, figures.published)."""

    fy = last_complete_month(NOW).fiscal_year - 1
    with undone(engine) as session:
        started = time.perf_counter()
        publication = report(session, fy=fy, now=NOW, deadline=ack_deadline_function(session))
        published(session, publication)
        return time.perf_counter() - started


def claim_reminders(engine: Engine, count: int) -> float:
    """Insert `count` due reminders, then time claiming them all (the dispatcher's first step)."""

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
    """(what, target, step) — each step returns the seconds it took. The first App Home is
    measured first, while this process has built none yet."""
    return [
        ("render the coordinator's App Home, the first time", "", app_home),
        (
            f"render the coordinator's App Home (median of {HOME_RUNS})",
            "target: < 200 ms",
            app_home_again,
        ),
        ("build the Link-net figures for a month (the monthly post)", "", linknet_month),
        (
            "build the Link-net figures for a fiscal year (yearly report)",
            "target: < 1 s",
            linknet_year,
        ),
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
