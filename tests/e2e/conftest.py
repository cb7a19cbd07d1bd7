"""Fixtures of the end-to-end tests that run `tsunagi run` itself."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from bot.server import EVENTS_PATH
from sandbox.standin.signed import SignedSlack
from tests.conftest import SIGNING_SECRET, Bot
from tests.e2e.test_socket_mode import free_port
from tests.support.processes import ROOT, bot_env, wait_until


@pytest.fixture
def served(db_url, org, slack, tmp_path):
    """`tsunagi run --http` in a child process; yields (process, harness, health URL)."""
    port = free_port()
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--http", "--port", str(port)],
        env=bot_env(db_url, slack),
        cwd=ROOT,
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
