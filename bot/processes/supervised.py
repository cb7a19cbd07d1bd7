"""The server's child processes (the worker, the memo store): started with the server, started
again if one ends, stopped with it. Each child also ends by itself when the server's end of its
pipe or socket closes, so a server killed with -9 leaves none behind."""

from __future__ import annotations

import logging
import subprocess
import threading
import time

log = logging.getLogger("tsunagi.worker")

RESTART_AFTER = 1.0  # seconds before a child that ended unexpectedly is started again
RESTART_AFTER_MAX = 30.0
STOP_WAIT = 15.0  # seconds a child gets to finish what it is doing before it is killed


class Supervised:
    """A child process kept running. Subclasses say how it is launched (`_launch`) and may
    act when one has started (`_started`)."""

    name = "child"

    def __init__(self, *, restart_after: float = RESTART_AFTER, **popen) -> None:
        self.restart_after = restart_after
        self.popen = popen  # e.g. stdout for tests; by default the child logs where we do
        self._proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _launch(self) -> subprocess.Popen:
        raise NotImplementedError

    def _started(self, proc: subprocess.Popen) -> None:
        """Called once a child is launched (the memo store connects to it here)."""

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(
            target=self._supervise, name=f"{self.name}-watch", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
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
                log.warning("%s did not stop in %s s; killed", self.name, STOP_WAIT)
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _spawn(self) -> None:
        with self._lock:
            self._proc = self._launch()
        self._started(self._proc)

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
            log.error(
                "%s ended (exit status %s); starting it again in %.0f s", self.name, code, wait
            )
            if self._stopping.wait(wait):
                return
            wait = min(wait * 2, RESTART_AFTER_MAX)
            self._spawn()
