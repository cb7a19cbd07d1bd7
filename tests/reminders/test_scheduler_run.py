"""`tsunagi run` starts the scheduler: reminders overdue at start go out; SIGTERM stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from models.base.db import transaction
from models.ops.keys import check_key
from models.queues.tables import Recipient, Subject, SubjectKind
from reminders.schedule import schedule_reminder
from tests.conftest import SIGNING_SECRET, TEST_KEY

ROOT = Path(__file__).parents[2]


def test_the_running_bot_sends_overdue_reminders_at_start_and_stops_on_sigterm(org, db_url, slack):
    now = datetime.now(UTC)  # the real process uses the real clock
    with transaction(org) as session:
        check_key(session)
        schedule_reminder(
            session,
            key="run:1",
            subject=Subject(SubjectKind.meeting, 1),
            rule="follow_up",
            recipient=Recipient.channel("C0COORD"),
            due_at=now - timedelta(days=3),
            at=now - timedelta(days=4),
            urgent=True,  # so it goes out whatever the hour the test runs at
            payload={"topic": "meeting"},
        )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TSUNAGI_DATABASE_URL": db_url,
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "TSUNAGI_CHANNEL_INTERVAL": "0",
    }
    bot = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli.main",
            "run",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        [message] = slack.wait_for(lambda: slack.messages("C0COORD"), timeout=30)
        assert "遅延" in str(message["blocks"])  # it was due three days ago
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    assert len(slack.messages("C0COORD")) == 1
