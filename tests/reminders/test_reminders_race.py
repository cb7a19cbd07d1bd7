"""Two OS processes racing `tsunagi reminders send-due` on one database send each reminder once.

Runs on SQLite (one writer at a time) and on real PostgreSQL (row locks, SKIP LOCKED) when
TSUNAGI_TEST_POSTGRES_URL is set. The processes talk to this test's Slack stand-in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from models.base.db import transaction
from models.ops.keys import check_key
from models.queues.tables import Recipient, Subject, SubjectKind
from reminders.schedule import schedule_reminder
from tests.conftest import START, TEST_KEY

ROOT = Path(__file__).parents[2]
CHANNELS = ["C0COORD", "C0HOUKATSU", "C0KODOMO", "C0FUKUSHI"]
COUNT = 60


def send_due(db_url: str, slack, at: str) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TSUNAGI_DATABASE_URL": db_url,
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_API_URL": slack.base_url,
        "TSUNAGI_CHANNEL_INTERVAL": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "reminders", "send-due", "--at", at],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_racing_send_due_send_each_reminder_exactly_once(org, db_url, slack):
    with transaction(org) as session:
        check_key(session)  # the bot has run here before (it plants the key's proof)
        for i in range(COUNT):
            schedule_reminder(
                session,
                key=f"race:{i}",
                subject=Subject(SubjectKind.task, i),
                rule="follow_up",
                recipient=Recipient.channel(CHANNELS[i % len(CHANNELS)]),
                due_at=START,
                at=START,
                payload={"topic": "check_in"},
            )
    at = "2026-11-27T10:05:00+09:00"
    racers = [send_due(db_url, slack, at) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in racers]
    for p, (out, err) in zip(racers, outputs, strict=True):
        assert p.returncode == 0, err
        assert "処理しました" in out
    # Each reminder was dispatched by one process only …
    dispatched = [int(re.search(r"送信 (\d+)件", out).group(1)) for out, _ in outputs]
    assert sum(dispatched) == COUNT

    posts = [c for c in slack.calls_to("chat.postMessage") if c.ok]
    keys = Counter(
        ((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in slack.messages()
    )
    # … and posted once (counted on the stand-in, by each message's idempotency key).
    assert len(posts) == COUNT
    assert len(keys) == COUNT and set(keys.values()) == {1}
    assert all(k.startswith("reminder:") for k in keys)
