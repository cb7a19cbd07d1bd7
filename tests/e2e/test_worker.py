"""`tsunagi run` and its worker process (bot/worker.py): the server stores, the worker delivers.

Driven as an IT officer runs it: `tsunagi run --http` as a child process, signed requests in,
the Slack stand-in out. The worker is killed with -9, the server too: nothing is lost or doubled,
and no worker is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from bot.server import EVENTS_PATH
from bot.worker import WorkerProcess, listen_for_kicks
from sandbox.standin.signed import SignedSlack
from tests.conftest import SIGNING_SECRET, TEST_KEY, Bot
from tests.e2e.test_socket_mode import free_port

PARTNER = "U0PARTNER1"


def _children(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc: no extra dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not within the time given")


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
        _wait(healthy)
        yield proc, harness, healthy
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


def _worker_of(proc: subprocess.Popen) -> int:
    return _wait(lambda: _children(proc.pid))[0]


def _keys_posted(slack) -> Counter:
    keys = Counter()
    for call in slack.calls_to("chat.postMessage"):
        metadata = call.args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            keys[metadata["event_payload"]["key"]] += 1
    return keys


def test_the_server_stores_and_the_worker_delivers(served, slack):
    proc, harness, healthy = served
    assert healthy()["scheduler"] == "running"  # the worker process is alive
    worker = _worker_of(proc)
    assert worker != proc.pid
    harness.send_memo(PARTNER)
    _wait(lambda: slack.messages())  # the card, sent by the worker
    _wait(lambda: any(c.args.get("channel") == PARTNER for c in slack.calls_to("chat.postMessage")))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    _wait(lambda: not _alive(worker), timeout=10)


def test_a_killed_worker_is_started_again_and_sends_nothing_twice(served, slack):
    proc, harness, healthy = served
    first = _worker_of(proc)
    harness.send_memo(PARTNER)
    _wait(lambda: slack.messages())
    os.kill(first, signal.SIGKILL)
    harness.send_memo(PARTNER)  # stored while no worker runs: waits in the outbox
    second = _wait(lambda: [p for p in _children(proc.pid) if p != first])[0]
    _wait(lambda: len(slack.messages()) >= 2)
    _wait(lambda: healthy()["scheduler"] == "running")
    assert second != first
    keys = _keys_posted(slack)
    assert keys and max(keys.values()) == 1  # every notice once


def test_the_worker_leaves_when_the_server_is_killed(served):
    proc, _harness, _healthy = served
    worker = _worker_of(proc)
    proc.kill()
    proc.wait(timeout=10)
    _wait(lambda: not _alive(worker), timeout=60)  # a loaded machine starts it slowly


# --- the pipe between them, on its own -----------------------------------------------------------

ECHO = """
import os, sys, threading
from bot.worker import listen_for_kicks
fd = int(sys.argv[sys.argv.index("--kick-fd") + 1])
done = threading.Event()
listen_for_kicks(fd, lambda: print("kick", flush=True), done.set)
done.wait()
print("gone", flush=True)
"""


def test_a_kick_wakes_the_worker_and_stop_ends_it(tmp_path):
    out = (tmp_path / "out").open("w")
    worker = WorkerProcess([sys.executable, "-c", ECHO], stdout=out)
    worker.start()
    worker.kick()
    _wait(lambda: "kick" in (tmp_path / "out").read_text())
    assert worker.running
    worker.stop()
    assert not worker.running


def test_kicks_never_block_even_with_no_worker_reading():
    worker = WorkerProcess([sys.executable, "-c", "pass"])
    for _ in range(100_000):  # far more than a pipe holds
        worker.kick()
    worker.stop()


def test_listening_worker_hears_the_pipe_close():
    read, write = os.pipe()
    kicks, gone = [], []
    listen_for_kicks(read, lambda: kicks.append(1), lambda: gone.append(1))
    os.write(write, b"k")
    _wait(lambda: kicks)
    os.close(write)
    _wait(lambda: gone)
