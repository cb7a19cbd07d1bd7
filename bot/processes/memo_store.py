"""The memo store: under `tsunagi run`, memos are stored in a process of their own.

Why: storing a memo is most of the CPU a submission costs (the transaction, the audit chain, the
commit), and Python runs one thread of a process at a time, so in the server's process every
other request waited behind it. In a process of its own it runs on the machine's other core,
and the memos that arrive while it is storing are stored together in its next transaction
(handlers/intake/writer.py `store_together`). `tsunagi bench`, same machine, interleaved runs:
memo submission at 8 clients, p99 1.73x a bare Bolt app in the server's process, 1.20x here.

The server's listener hands the routed memo over a socket and waits for the outcome (the
receipt number) before it answers the person: a memo is still stored before anything is said.
When the store is not running (starting, or started again after a crash) the server stores the
memo itself, so nothing waits for it. If the store ends while a memo is with it, the server
stores that memo itself too: had the store stored it just before, the view's id, which is
unique, finds that memo instead, so it is stored once either way. A store that stalls (no
answer in STALLED seconds) is killed first, so that nothing it held open commits afterwards.

`tsunagi run` starts it (`tsunagi store --fd N`) and keeps it running; it ends when the socket
closes, so a server killed with -9 leaves it behind no longer than the worker.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from bot.logging_safety import frames_only
from bot.processes.supervised import RESTART_AFTER, Supervised
from handlers.common.reference import FailedElsewhere, is_busy, reference_code
from handlers.common.services import Services
from handlers.intake import writer
from handlers.intake.writer import Outcome
from models.base.db import REQUEST_WAIT
from models.base.errors import Busy
from models.cases.memo import Routed

log = logging.getLogger("tsunagi.store")

# Messages are pickled: both ends are this program, over a socket pair no one else holds.
_READY = {"ready": True}
_GONE = {"gone": True}  # the store ended before it answered
# Seconds without an answer after which the store is taken for stalled. Its own wait for the
# database is bounded by the request path's (about 1.5 s); a disk stalled longer than this
# would stall the server's own attempt too, which the person's form then waits for.
STALLED = 10.0
STALLED_END_WAIT = 5.0  # seconds a stalled store killed is waited for before the server stores


class _Link:
    """The server's end of one store process's socket: requests out, answers back in order of
    arrival, each to the listener waiting for it."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        stalled_after: float = STALLED,
        on_stall: Callable[[], None] = lambda: None,
    ) -> None:
        self._conn = Connection(sock.detach())
        self.stalled_after, self._on_stall = stalled_after, on_stall
        self.ready = threading.Event()  # the store has opened the database
        self.closed = threading.Event()
        self._sending = threading.Lock()
        self._numbers = itertools.count(1)
        self._waiting: dict[int, tuple[threading.Event, list]] = {}
        threading.Thread(target=self._read, name="memo-store-link", daemon=True).start()

    def store(self, routed: Routed, view: dict) -> Outcome | None:
        """The memo's outcome from the store; None if the store ended first or stalled (the
        server then stores the memo itself: had the store stored it already, the view's id
        finds that memo, so it is never stored twice)."""
        done, answer = threading.Event(), []
        number = next(self._numbers)
        self._waiting[number] = (done, answer)
        # CLOCK_MONOTONIC is the machine's: the store reads the same deadline (its lock wait).
        deadline = time.monotonic() + REQUEST_WAIT
        request = {"n": number, "routed": routed, "view": view, "deadline": deadline}
        try:
            with self._sending:
                self._conn.send_bytes(pickle.dumps(request))
        except OSError:
            self._waiting.pop(number, None)
            return None
        if self.closed.is_set():  # it ended while this was sent: _read may have missed it
            self._answer_all(_GONE)
        # The store's own wait for the lock is bounded; this only guards against a stalled one.
        if not done.wait(self.stalled_after):
            self._waiting.pop(number, None)
            log.warning(
                "the memo store did not answer in %s s; it is ended and the server stores",
                self.stalled_after,
            )
            # Ended first, so that a transaction it still holds can never commit after the
            # server has stored (or told the person it is busy): then the view's id decides.
            self._on_stall()
            return None
        [reply] = answer
        if "outcome" in reply:
            return reply["outcome"]
        if "failed" in reply:
            raise FailedElsewhere(reply["failed"])
        if "busy" in reply:
            raise Busy()
        return None  # gone

    def close(self) -> None:
        self._conn.close()

    def _read(self) -> None:
        try:
            while True:
                reply = pickle.loads(self._conn.recv_bytes())
                if reply == _READY:
                    self.ready.set()
                    continue
                waiting = self._waiting.pop(reply["n"], None)
                if waiting is not None:
                    waiting[1].append(reply)
                    waiting[0].set()
        except (EOFError, OSError):
            pass
        self.closed.set()
        self._answer_all(_GONE)

    def _answer_all(self, reply: dict) -> None:
        for number in list(self._waiting):
            waiting = self._waiting.pop(number, None)
            if waiting is not None:
                waiting[1].append(reply)
                waiting[0].set()


class MemoStoreProcess(Supervised):
    """The server's side: starts the store, hands it memos, starts it again if it ends."""

    name = "memo store"

    def __init__(
        self,
        command: list[str] | None = None,
        *,
        restart_after: float = RESTART_AFTER,
        stalled_after: float = STALLED,
        **popen,
    ) -> None:
        super().__init__(restart_after=restart_after, **popen)
        self.stalled_after = stalled_after
        self.command = command or [sys.executable, "-m", "bot.cli.main", "store"]
        self._link: _Link | None = None
        self._next: socket.socket | None = None

    @property
    def running(self) -> bool:
        """Alive and taking memos (`/healthz` says so): its link is open and it said ready."""
        link = self._link
        return (
            super().running
            and link is not None
            and link.ready.is_set()
            and not link.closed.is_set()
        )

    def store(self, routed: Routed, view: dict) -> Outcome | None:
        """The memo's outcome from the store process; None when it is not there to take it (the
        server then stores the memo itself)."""
        link = self._link
        if link is None or not link.ready.is_set() or link.closed.is_set():
            return None
        # What the store reads of the form: its id (a second 送信 is the same memo) and the
        # door it was opened from; not the ~20 KB of blocks and inputs, already read here.
        return link.store(
            routed, {"id": view["id"], "private_metadata": view.get("private_metadata")}
        )

    def stop(self) -> None:
        super().stop()
        if self._link is not None:
            self._link.close()

    def _launch(self) -> subprocess.Popen:
        ours, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(
                [*self.command, "--fd", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                **self.popen,
            )
        finally:
            theirs.close()
        self._next = ours
        return proc

    def _started(self, proc: subprocess.Popen) -> None:
        link = _Link(self._next, stalled_after=self.stalled_after, on_stall=lambda: _end(proc))
        old, self._link = self._link, link
        if old is not None:
            old.close()


def _end(proc: subprocess.Popen) -> None:
    """A stalled store is killed (the supervisor starts another); its open transaction, if
    any, is rolled back with it."""
    if proc.poll() is None:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STALLED_END_WAIT)


def serve(fd: int, svc: Services) -> None:
    """The store's side: store what the server sends, those waiting together, until the server
    closes the socket."""
    conn = Connection(fd)
    conn.send_bytes(pickle.dumps(_READY))
    log.info("memo store ready")
    while True:
        try:
            requests = [pickle.loads(conn.recv_bytes())]
            while conn.poll(0):  # every memo already waiting goes in the same transaction
                requests.append(pickle.loads(conn.recv_bytes()))
        except (EOFError, OSError):
            return
        now = time.monotonic()
        results = writer.store_together(
            svc, [(r["routed"], r["view"], max(0.05, r["deadline"] - now)) for r in requests]
        )
        for request, result in zip(requests, results, strict=True):
            try:
                conn.send_bytes(pickle.dumps({"n": request["n"], **_reply(result)}))
            except OSError:
                return


def _reply(result: Outcome | BaseException) -> dict:
    if not isinstance(result, BaseException):
        return {"outcome": result}
    if is_busy(result):
        return {"busy": True}
    code = reference_code()  # the person is told this code; the traceback is here
    log.error(
        "memo store failed [%s] (%s)\n%s",
        code,
        type(result).__name__,
        frames_only((type(result), result, result.__traceback__)),
    )
    return {"failed": code}
