"""The worker: the delivery loop and the scheduler in a process of their own, beside the server.

Why a second process: both use the CPU and the database's write lock, and Python runs one thread
at a time. In the server's process they lengthened every answer to a person (`tsunagi bench`,
memo submission at 8 clients: p99 115–135 ms with them, 77 ms without). Claims are fenced
(models/queues/lease.py), so a worker that crashes and is started again never sends anything
twice.

`tsunagi run` starts the worker (`tsunagi worker --kick-fd N`) and keeps it running. The server
wakes it through a pipe when it has queued a notice; the worker ends when the pipe closes, so a
server killed with -9 does not leave it behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger("tsunagi.worker")

RESTART_AFTER = 1.0  # seconds before a worker that ended unexpectedly is started again
RESTART_AFTER_MAX = 30.0
STOP_WAIT = 15.0  # seconds a worker gets to finish a Slack call before it is killed


class WorkerProcess:
    """The server's side: starts the worker, wakes it, starts it again if it ends, stops it."""

    def __init__(
        self,
        command: list[str] | None = None,
        *,
        restart_after: float = RESTART_AFTER,
        **popen,
    ) -> None:
        self.command = command or [sys.executable, "-m", "bot.cli.main", "worker"]
        self.restart_after = restart_after
        self.popen = popen  # e.g. stdout for tests; by default the worker logs where we do
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- what the server calls --------------------------------------------------------------------
    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(target=self._supervise, name="worker-watch", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """A notice was queued: wake the delivery loop now (never blocks the person's request)."""
        # A full pipe already holds a wake-up; a closed one means we are stopping.
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(self._write, b"k")

    @property
    def running(self) -> bool:
        """For /healthz: the worker process is alive."""
        proc = self._proc
        return proc is not None and proc.poll() is None

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                log.warning("worker did not stop in %s s; killed", STOP_WAIT)
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- inside -------------------------------------------------------------------------------
    def _spawn(self) -> None:
        with self._lock:
            self._proc = subprocess.Popen(
                [*self.command, "--kick-fd", str(self._read)],
                pass_fds=(self._read,),
                **self.popen,
            )

    def _supervise(self) -> None:
        wait = self.restart_after
        while not self._stopping.is_set():
            started = time.monotonic()
            proc = self._proc
            code = proc.wait() if proc is not None else None
            if self._stopping.is_set():
                return
            if time.monotonic() - started > RESTART_AFTER_MAX:
                wait = self.restart_after  # it had been running well: no long pause
            log.error("worker ended (exit status %s); starting it again in %.0f s", code, wait)
            if self._stopping.wait(wait):
                return
            wait = min(wait * 2, RESTART_AFTER_MAX)
            self._spawn()


def listen_for_kicks(fd: int, kick: Callable[[], None], parent_gone: Callable[[], None]) -> None:
    """The worker's side: call `kick` for each wake-up; `parent_gone` when the pipe closes."""

    def run() -> None:
        while True:
            try:
                data = os.read(fd, 512)
            except OSError:
                data = b""
            if not data:
                parent_gone()
                return
            kick()

    threading.Thread(target=run, name="worker-kicks", daemon=True).start()
