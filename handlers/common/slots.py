"""Acknowledgements first: the database work a listener does after its ack() runs two at a time.

A listener answers Slack with ack() and keeps its thread for the work after it (a reply, a
desk, a Slack call). Under a burst, dozens of such threads computed at once, and Python runs
one thread at a time: they spent the interpreter handing it from one to another instead of
working (`tsunagi bench`, /tsunagi mine at 8 clients: 7.7 ms of CPU per request, a third of it
in the kernel; two at a time: 4.2 ms). So after its acknowledgement a listener opens a
transaction only in its turn (`turn`, which models/base/db.py asks for every transaction; the
wiring in bot/app.py connects the two). Nothing else waits:

- an acknowledgement never does: a listener is given turns only after it has answered;
- a call to Slack does not hold a turn (a form's trigger id lasts 3 seconds);
- a listener waits at most SLOT_WAIT for turns in all; one that waited that long goes on
  without turns.

`ListenerPool` is the pool Bolt runs listeners in; `acknowledged()` is called by every
listener's `ack` (handlers/common/timely.py) and by event listeners, which Bolt acknowledges
before they run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

WORK_SLOTS = 2  # listeners in a transaction after their acknowledgement, at once
SLOT_WAIT = 0.5  # seconds a listener waits for turns before it goes on without them

# Per thread: .turns (the semaphore of the pool running its listener, None outside listeners),
# .answered (the listener has acknowledged), .holding (it has a turn now).
_here = threading.local()


def acknowledged() -> None:
    """The listener of this thread has answered Slack: from now on it works in turns.
    Outside the pool (Bolt acknowledging an event in the request's thread) nothing changes."""
    if getattr(_here, "turns", None) is not None:
        _here.answered = True


@contextmanager
def turn() -> Iterator[None]:
    """A turn for the work inside, if this thread is a listener that has answered."""
    turns = getattr(_here, "turns", None)
    if turns is None or not _here.answered or _here.holding:
        yield  # outside listeners, before the acknowledgement, or already in its turn
        return
    _here.holding = turns.acquire(timeout=SLOT_WAIT)
    if not _here.holding:
        _here.answered = False  # waited long enough: the rest of its work goes without turns
    try:
        yield
    finally:
        if _here.holding:
            _here.holding = False
            turns.release()


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener executor, with the turns of its listeners (one app: one pool)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._turns = threading.BoundedSemaphore(WORK_SLOTS)

    def submit(self, fn, /, *args, **kwargs):
        def listen(*a, **kw):
            _here.turns, _here.answered, _here.holding = self._turns, False, False
            try:
                return fn(*a, **kw)
            finally:
                _here.turns = None

        return super().submit(listen, *args, **kwargs)
