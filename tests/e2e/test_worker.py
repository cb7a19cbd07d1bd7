"""`tsunagi run` and its child processes (bot/processes/): the server (or the memo store) stores,
the worker delivers.

Driven as an IT officer runs it: `tsunagi run --http` as a child process, signed requests in,
the Slack stand-in out. The worker is killed with -9, the server too: nothing is lost or doubled,
and no worker is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter

from bot.processes.worker import WorkerProcess, listen_for_kicks
from tests.support.processes import alive, child_of, wait_until, worker_of

PARTNER = "U0PARTNER1"


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
    wait_until(lambda: healthy()["memo_store"] == "running")  # and the store takes memos
    worker = worker_of(proc)
    assert worker != proc.pid
    harness.send_memo(PARTNER)
    wait_until(lambda: slack.messages())  # the card, sent by the worker
    wait_until(
        lambda: any(c.args.get("channel") == PARTNER for c in slack.calls_to("chat.postMessage"))
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    wait_until(lambda: not alive(worker), timeout=10)


def test_a_killed_worker_is_started_again_and_sends_nothing_twice(served, slack):
    proc, harness, healthy = served
    first = worker_of(proc)
    harness.send_memo(PARTNER)
    wait_until(lambda: slack.messages())
    os.kill(first, signal.SIGKILL)
    harness.send_memo(PARTNER)  # stored while no worker runs: waits in the outbox
    second = child_of(proc, "worker", other_than=first)
    wait_until(lambda: len(slack.messages()) >= 2)
    wait_until(lambda: healthy()["scheduler"] == "running")
    assert second != first
    keys = _keys_posted(slack)
    assert keys and max(keys.values()) == 1  # every notice once


def test_the_worker_and_the_memo_store_leave_when_the_server_is_killed(served):
    proc, _harness, _healthy = served
    worker, store = worker_of(proc), child_of(proc, "store")
    proc.kill()
    proc.wait(timeout=10)
    wait_until(lambda: not alive(worker), timeout=60)  # a loaded machine starts it slowly
    wait_until(lambda: not alive(store), timeout=60)


# --- the pipe between them, on its own -----------------------------------------------------------

ECHO = """
import os, sys, threading
from bot.processes.worker import listen_for_kicks
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
    wait_until(lambda: "kick" in (tmp_path / "out").read_text())
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
    wait_until(lambda: kicks)
    os.close(write)
    wait_until(lambda: gone)
