"""Every message exactly once, whatever happens: faults injected, counted on what the Slack
stand-in received (never on the database's own marks).

Leases are 1 s here (TSUNAGI_LEASE_SECONDS / lease.LEASE) and the stand-in answers slowly
(set_latency), so the races the fencing and the history walk guard against happen in seconds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.delivery import Delivery
from bot.slack import make_client
from models.base.clock import system_clock
from models.base.db import transaction
from models.ops.keys import check_key
from models.queues import lease
from models.queues.tables import Recipient, Subject, SubjectKind
from reminders.dispatcher import dispatch_due
from reminders.schedule import schedule_reminder
from tests.conftest import START, TEST_KEY
from tests.ops.test_backup import PG_TOOLS, cli

ROOT = Path(__file__).parents[2]
LEASE_SECONDS = "1"
CHANNELS = ["C0COORD", "C0HOUKATSU"]


def seed(engine, count: int, *, channels=CHANNELS, start: int = 0) -> list[str]:
    """`count` reminder notices in the outbox, due now; returns their outbox keys."""
    with transaction(engine) as session:
        check_key(session)  # as if the bot had run here (it plants the key's proof)
        for i in range(start, start + count):
            schedule_reminder(
                session,
                key=f"eo:{i}",
                subject=Subject(SubjectKind.task, i),
                rule="follow_up",
                recipient=Recipient.channel(channels[i % len(channels)]),
                due_at=START,
                at=START,
                payload={"topic": "check_in"},
            )
    result = dispatch_due(engine, now=START)
    assert len(result.sent) == count
    return [f"reminder:{rid}:{channels[i % len(channels)]}" for i, rid in enumerate(result.sent)]


def received(slack) -> Counter:
    """How many times Slack received each tsunagi notice (by its metadata key)."""
    keys: Counter = Counter()
    for call in slack.calls_to("chat.postMessage"):
        meta = call.args.get("metadata") or {}
        if call.ok and isinstance(meta, dict) and meta.get("event_type") == "tsunagi_notice":
            keys[meta["event_payload"]["key"]] += 1
    return keys


def assert_exactly_once(slack, keys: list[str]) -> None:
    got = received(slack)
    doubled = {k: n for k, n in got.items() if n > 1}
    missing = [k for k in keys if k not in got]
    assert not doubled, f"sent twice: {doubled}"
    assert not missing, f"never sent: {missing}"


def env(db_url: str, slack) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TSUNAGI_DATABASE_URL": db_url,
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_API_URL": slack.base_url,
        "TSUNAGI_CHANNEL_INTERVAL": "0",
        "TSUNAGI_LEASE_SECONDS": LEASE_SECONDS,
    }


def worker(db_url: str, slack, seconds: float = 90) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.delivery_worker", str(seconds)],
        cwd=ROOT,
        env=env(db_url, slack),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def send_due(db_url: str, slack, at: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "reminders", "send-due", "--at", at],
        cwd=ROOT,
        env=env(db_url, slack),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(*procs: subprocess.Popen) -> None:
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]


def tomorrow() -> str:
    return (system_clock() + timedelta(days=1)).isoformat()


def chatter(slack, channel: str, count: int) -> None:
    """Other people's messages: the channel gets busy (more than one history page)."""
    client = WebClient(token=slack.token, base_url=slack.base_url)
    for i in range(count):
        client.chat_postMessage(channel=channel, text=f"雑談 {i}")


# --- the tests --------------------------------------------------------------------------------


def test_send_due_at_tomorrow_beside_a_slow_live_bot_sends_each_once(org, db_url, slack):
    keys = seed(org, 120)
    slack.set_latency("chat.postMessage", 0.02)  # a batch of 50 outlives the 1 s lease
    bot = worker(db_url, slack)
    slack.wait_for(lambda: len(received(slack)) >= 10, timeout=30)
    finish(send_due(db_url, slack, tomorrow()), bot)
    assert_exactly_once(slack, keys)


def test_kill_9_at_random_points_of_a_burst_then_restart_loses_and_doubles_nothing(
    org, db_url, slack
):
    keys = seed(org, 160, channels=["C0HOUKATSU"])
    chatter(slack, "C0HOUKATSU", 20)
    slack.set_latency("chat.postMessage", 0.03)  # kills land inside a post, too
    rng = random.Random(20261205)
    for i in range(20):
        before = sum(received(slack).values())
        proc = worker(db_url, slack)
        target = before + rng.randint(1, 6)
        slack.wait_for(lambda t=target: sum(received(slack).values()) >= t, timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        if i % 4 == 3:  # every message in flight at a kill gets more than 100 newer ones
            chatter(slack, "C0HOUKATSU", 105)
    finish(worker(db_url, slack))
    assert_exactly_once(slack, keys)
    assert slack.calls_to("conversations.history")  # the reclaimed rows were looked for


def test_a_batch_slower_than_the_lease_is_not_doubled(org, slack, monkeypatch):
    monkeypatch.setattr(lease, "LEASE", timedelta(seconds=0.6))
    keys = seed(org, 40)
    slack.set_latency("chat.postMessage", 0.05)  # 40 posts: about 2 s, three leases
    workers = [
        Delivery(
            org,
            make_client(slack.token, slack.base_url, retries=False),
            system_clock,
            channel_interval=0.0,
        )
        for _ in range(2)
    ]
    first = threading.Thread(target=workers[0].run_once)
    first.start()
    slack.wait_for(lambda: received(slack), timeout=10)
    while first.is_alive():  # the other process keeps trying to take rows over
        workers[1].run_once()
    first.join()
    workers[1].run_once()
    assert_exactly_once(slack, keys)


def test_a_worker_frozen_past_its_lease_wakes_up_and_sends_nothing_again(org, db_url, slack):
    # SIGSTOP freezes the heartbeat too: the lease lapses, another process takes the rows over.
    # Only the fence (the token checked before each Slack call) stops the sleeper, once woken,
    # from sending the rest of its batch again.
    keys = seed(org, 60, channels=["C0HOUKATSU"])
    slack.set_latency("chat.postMessage", 0.05)  # a batch of 50: about 2.5 s
    sleeper = worker(db_url, slack)
    slack.wait_for(lambda: len(received(slack)) >= 5, timeout=30)
    # Frozen while it waits for Slack's answer: a process stopped inside a write would hold
    # SQLite's one write lock for every process (no fence helps there), and the test would only
    # show that. Its held message reaches Slack while it sleeps, so the takeover must see it.
    with slack.hold("chat.postMessage") as gate:
        assert gate.arrived.wait(10)
        sleeper.send_signal(signal.SIGSTOP)
    try:
        threading.Event().wait(float(LEASE_SECONDS) * 2.5)
        finish(worker(db_url, slack))  # takes over and drains everything
        assert len(received(slack)) == len(keys)
    finally:
        sleeper.send_signal(signal.SIGCONT)
    finish(sleeper)
    assert_exactly_once(slack, keys)


def test_backup_deliver_more_restore_sends_nothing_twice(
    org, db_url, slack, monkeypatch, capsys, tmp_path
):
    if db_url.startswith("postgresql") and not PG_TOOLS:
        pytest.skip("pg_dump/pg_restore are not installed")
    keys = seed(org, 30)
    delivery = Delivery(
        org,
        make_client(slack.token, slack.base_url, retries=False),
        system_clock,
        channel_interval=0.0,
    )
    code, out = cli(monkeypatch, capsys, db_url, TEST_KEY, "backup", tmp_path / "b.db")
    assert code == 0, out
    delivery.run_once()  # delivered after the backup was taken
    assert len(received(slack)) == 30
    chatter(slack, "C0COORD", 230)
    code, out = cli(monkeypatch, capsys, db_url, TEST_KEY, "restore", tmp_path / "b.db", "--force")
    assert code == 0, out
    org.dispose()
    delivery.run_once()
    assert_exactly_once(slack, keys)


def test_two_bot_processes_and_send_due_at_once_send_each_once(org, db_url, slack):
    keys = seed(org, 120)
    slack.set_latency("chat.postMessage", 0.01)
    procs = [worker(db_url, slack), worker(db_url, slack)]
    slack.wait_for(lambda: received(slack), timeout=30)
    procs.append(send_due(db_url, slack, tomorrow()))
    finish(*procs)
    assert_exactly_once(slack, keys)


def test_after_an_outage_one_channel_gets_its_messages_oldest_first(org, slack, clock):
    keys = seed(org, 12, channels=["C0HOUKATSU"])
    delivery = Delivery(
        org,
        make_client(slack.token, slack.base_url, retries=False),
        clock,
        channel_interval=0.0,
    )
    clock.at = system_clock()
    slack.fail_next("chat.postMessage", status=503, times=3)  # Slack is down for a while
    for _ in range(6):
        delivery.run_once()
        clock.advance(minutes=2)
    assert_exactly_once(slack, keys)
    order = [
        c.args["metadata"]["event_payload"]["key"]
        for c in slack.calls_to("chat.postMessage")
        if c.ok
    ]
    assert order == keys
