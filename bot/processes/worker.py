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
import os
import subprocess
import sys
import threading
from collections.abc import Callable

from bot.processes.supervised import RESTART_AFTER, Supervised


class WorkerProcess(Supervised):
    """The server's side: starts the worker, wakes it, starts it again if it ends, stops it."""

    name = "worker"

    def __init__(
        self,
        command: list[str] | None = None,
        *,
        restart_after: float = RESTART_AFTER,
        **popen,
    ) -> None:
        super().__init__(restart_after=restart_after, **popen)
        self.command = command or [sys.executable, "-m", "bot.cli.main", "worker"]
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def kick(self) -> None:
        """A notice was queued: wake the delivery loop now (never blocks the person's request)."""
        # A full pipe already holds a wake-up; a closed one means we are stopping.
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(self._write, b"k")

    def stop(self) -> None:
        super().stop()
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _launch(self) -> subprocess.Popen:
        return subprocess.Popen(
            [*self.command, "--kick-fd", str(self._read)], pass_fds=(self._read,), **self.popen
        )


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
