"""Fixtures of the end-to-end tests that run `tsunagi run` itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.server import EVENTS_PATH
from sandbox.standin.signed import SignedSlack
from tests.conftest import SIGNING_SECRET, TEST_KEY, Bot
from tests.e2e.test_socket_mode import free_port
from tests.support.processes import wait_until


@pytest.fixture
def served(db_url, org, slack, tmp_path):
    """`tsunagi run --http` in a child process; yields (process, harness, health URL)."""
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "TSUNAGI_DATABASE_URL": db_url,
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "TSUNAGI_CHANNEL_INTERVAL": "0",
        # A worker killed with -9 leaves its claims until their lease runs out: 1 s here, so the
        # next worker takes them over within the test (90 s in service).
        "TSUNAGI_LEASE_SECONDS": "1",
    }
    env.pop("SLACK_APP_TOKEN", None)
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--http", "--port", str(port)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    harness = Bot(None, slack, SignedSlack(base + EVENTS_PATH, SIGNING_SECRET), base + EVENTS_PATH)

    def healthy():
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                return json.loads(answer.read())
        except OSError:
            return None

    try:
        wait_until(healthy)
        yield proc, harness, healthy
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()
