"""Memos are stored by one writer thread, the memos that arrive together in one transaction.

The person waits for the receipt number, so a memo is stored before its form is answered. Stored
one per transaction, eight memos sent at once queued for the database's one write lock, and each
paid the same fixed cost (the transaction, the audit chain, the commit) while the others waited
(`tsunagi bench`: a memo's own statements were half of it). Here the listener hands its routed
memo to the writer and waits; the writer stores every memo waiting in one transaction, with the
statements run once for all of them (models/cases/memo.py `store_all`). Each memo is still all
or nothing: if the transaction fails for any reason but a busy database, the memos are stored
again one by one, so one memo's problem is never another's.

Under `tsunagi run` the same is done in the memo store process, on the machine's other core
(bot/processes/memo_store.py, through `store_together`); this thread stores memos only while that
process is not there (starting, or started again), and in tests.

The wait is bounded as any request's (models/base/db.py REQUEST_WAIT): a memo the writer has not
taken by then is not stored, and the person is told the database is busy. One taken is stored or
not within its transaction's own bounded wait, and the person hears which.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from handlers.common.bursts import Bursts
from handlers.common.reference import is_busy
from handlers.common.services import Services
from handlers.partners.doors import door_channel
from models.base.db import REQUEST_WAIT, transaction
from models.base.errors import Busy
from models.cases import memo as intake
from models.cases.memo import NotStored, Routed, StoredMemo, Submission
from models.org.identities import copy_of
from reminders.memo import ack_rules, schedule_ack_reminders_all

Outcome = StoredMemo | NotStored


class _Waiting:
    """A memo handed to the writer, and its listener waiting for what became of it."""

    def __init__(self, svc: Services, routed: Routed, view: dict, wait: float) -> None:
        self.svc, self.routed, self.view = svc, routed, view
        self.deadline = time.monotonic() + wait
        self._changed = threading.Condition()
        self._state = "waiting"  # -> taken -> done; or waiting -> given up
        self._outcome: Outcome | None = None
        self._error: BaseException | None = None

    def take(self) -> bool:
        """The writer's: False if the listener has given up (the memo must not be stored)."""
        with self._changed:
            if self._state != "waiting":
                return False
            self._state = "taken"
            return True

    def finish(self, outcome: Outcome | None = None, error: BaseException | None = None) -> None:
        with self._changed:
            self._outcome, self._error, self._state = outcome, error, "done"
            self._changed.notify_all()

    def result(self) -> Outcome | BaseException:
        """The outcome, or the error, of a memo taken and stored (the memo store's answer)."""
        with self._changed:
            self._changed.wait_for(lambda: self._state == "done")
        return self._outcome if self._error is None else self._error

    def outcome(self) -> Outcome:
        """The listener's: what became of the memo. Busy if the writer did not take it in time
        (then it is never stored); the transaction's own error if it failed."""
        with self._changed:
            left = self.deadline - time.monotonic()
            if not self._changed.wait_for(lambda: self._state != "waiting", max(0.0, left)):
                self._state = "given up"
                raise Busy()
            self._changed.wait_for(lambda: self._state == "done")
        if self._error is not None:
            raise self._error
        return self._outcome


class MemoWriter:
    def __init__(self) -> None:
        self._bursts: Bursts[_Waiting] = Bursts("tsunagi-memos", self._store_burst)

    def store(self, svc: Services, routed: Routed, view: dict) -> Outcome:
        """Store a routed memo sent from `view` (its id and the door it came from); waits for
        the outcome. Busy when the database stayed busy past the request path's bound."""
        waiting = _Waiting(svc, routed, view, REQUEST_WAIT)
        self._bursts.put(waiting)
        return waiting.outcome()

    def flush(self, timeout: float) -> bool:
        return self._bursts.flush(timeout)

    def _store_burst(self, burst: list[_Waiting]) -> None:
        for svc in {id(w.svc): w.svc for w in burst}.values():
            taken = [w for w in burst if w.svc is svc and w.take()]
            if taken:
                self._store(svc, taken)

    def _store(self, svc: Services, memos: list[_Waiting]) -> None:
        """Store `memos` in one transaction and tell each listener; whatever fails, every
        listener hears (none waits for ever)."""
        try:
            at = svc.clock()
            rules = copy_of(svc.engine, ack_rules)  # in memory: changes only with the org file
            wait = max(0.05, min(w.deadline for w in memos) - time.monotonic())
            with transaction(svc.engine, wait=wait) as session:
                submissions = [
                    Submission(w.routed, w.view["id"], door_channel(session, w.view)) for w in memos
                ]
                outcomes = intake.store_all(session, submissions, at=at)
                stored = [o for o in outcomes if isinstance(o, StoredMemo)]
                schedule_ack_reminders_all(session, cases=stored, at=at, rules=rules)  # never lost
        except Exception as exc:
            self._failed(svc, memos, exc)
            return
        for w, outcome in zip(memos, outcomes, strict=True):
            w.finish(outcome)

    def _failed(self, svc: Services, memos: list[_Waiting], exc: Exception) -> None:
        if is_busy(exc):  # nothing stored: each person may press 送信 again
            for w in memos:
                w.finish(error=Busy())
        elif len(memos) > 1:  # one by one: whichever memo failed fails alone
            for w in memos:
                self._store(svc, [w])
        elif isinstance(exc, intake.DuplicateSubmission):  # stored before, by a retry
            memos[0].finish(NotStored.duplicate)
        else:
            memos[0].finish(error=exc)


_writer = MemoWriter()
# Where memos are stored when not here: the memo store process under `tsunagi run`
# (bot/processes/memo_store.py). It answers None when it cannot take the memo (not running):
# then here.
_elsewhere: Callable[[Routed, dict], Outcome | None] | None = None


def store_elsewhere(store: Callable[[Routed, dict], Outcome | None] | None) -> None:
    """Set by the wiring: memos go to `store` first (None: stored in this process)."""
    global _elsewhere
    _elsewhere = store


def store(svc: Services, routed: Routed, view: dict) -> Outcome:
    """Store a routed memo with those arriving at the same time (see MemoWriter.store); in the
    memo store process when there is one."""
    if _elsewhere is not None:
        outcome = _elsewhere(routed, view)
        if outcome is not None:
            return outcome
    return _writer.store(svc, routed, view)


def store_together(
    svc: Services, memos: list[tuple[Routed, dict, float]]
) -> list[Outcome | BaseException]:
    """The memo store's side: store `memos` (each: the routed memo, its view, how long it may
    still wait) in one transaction, as the writer does; each one's outcome or error."""
    waiting = [_Waiting(svc, routed, view, wait) for routed, view, wait in memos]
    taken = [w for w in waiting if w.take()]
    if taken:
        _writer._store(svc, taken)
    return [w.result() for w in waiting]


def flush(timeout: float = 5.0) -> bool:
    """Every memo handed over so far stored or answered (at a normal stop, and in tests)."""
    return _writer.flush(timeout)
