"""Acknowledgements first: the work a listener does after its ack() runs a few at a time.

A listener answers Slack with ack() and keeps its thread for the work after it (a reply, a
desk, a Slack call). Under a burst, dozens of such threads ran at once, and Python runs one
thread at a time: they spent the interpreter handing it from one to another instead of
working (`tsunagi bench`, /tsunagi mine at 8 clients: 7.7 ms of CPU per request, a third of it
in the kernel; with two slots 4.2 ms). The acknowledgements themselves never wait for a slot:
a listener takes one only after it has answered, and waits at most SLOT_WAIT for it (a form's
trigger id lasts 3 seconds), then goes on without one.

`ListenerPool` is the pool Bolt runs listeners in (bot/app.py); `acknowledged()` is called by
every listener's `ack` (handlers/common/timely.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

WORK_SLOTS = 2  # listeners working after their ack at once
SLOT_WAIT = 0.5  # seconds a listener waits for a slot before it works without one

_slots = threading.BoundedSemaphore(WORK_SLOTS)
_here = threading.local()  # .listening: a pool thread running a listener; .holding: its slot


def acknowledged() -> None:
    """The listener of this thread has answered: its remaining work waits for a slot.

    Outside the pool (Bolt acknowledging an event in the request's thread) nothing waits."""
    if getattr(_here, "listening", False) and not getattr(_here, "holding", False):
        _here.holding = _slots.acquire(timeout=SLOT_WAIT)


def _finished() -> None:
    _here.listening = False
    if getattr(_here, "holding", False):
        _here.holding = False
        _slots.release()


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener executor: frees a listener's slot when the listener returns."""

    def submit(self, fn, /, *args, **kwargs):
        def listen(*a, **kw):
            _here.listening = True
            try:
                return fn(*a, **kw)
            finally:
                _finished()

        return super().submit(listen, *args, **kwargs)
