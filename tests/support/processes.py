"""`tsunagi run` as a child process, as an IT officer runs it, and the processes it starts."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.conftest import SIGNING_SECRET, TEST_KEY

ROOT = Path(__file__).resolve().parents[2]


def bot_env(db_url: str, slack) -> dict[str, str]:
    """The environment of a `tsunagi` child process serving the test's town and stand-in."""
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
    return env


def children(pid: int) -> list[int]:
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


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not within the time given")


def command_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def child_of(proc: subprocess.Popen, command: str, other_than: int | None = None) -> int:
    """The live child of `tsunagi run` running `tsunagi <command>` (worker, store)."""
    return wait_until(
        lambda: [p for p in children(proc.pid) if command in command_of(p) and p != other_than]
    )[0]


def worker_of(proc: subprocess.Popen) -> int:
    return child_of(proc, "worker")
