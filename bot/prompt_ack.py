"""Slack gets its answer as soon as a listener calls ack(), not at Bolt's next poll.

Bolt runs a listener in its thread pool and the request's thread looks for the acknowledgement
every 10 ms (slack_bolt/listener/thread_runner.py sleeps between looks): on average 5 ms added
to every answer, and 100 wake-ups a second per waiting request. Here an ack() wakes the waiting
threads at once; if a wake-up is missed, the look after the usual 10 ms still finds it.
"""

from __future__ import annotations

import threading
import time

from slack_bolt.context.ack import Ack
from slack_bolt.listener import thread_runner

_acknowledged = threading.Condition()


class PromptAck(Ack):
    def __call__(self, *args, **kwargs):
        response = super().__call__(*args, **kwargs)
        with _acknowledged:
            _acknowledged.notify_all()
        return response


class _TimeWithPromptSleep:
    """The `time` module as Bolt's listener runner sees it: its sleep ends at an ack()."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        with _acknowledged:
            _acknowledged.wait(seconds)


def install() -> None:
    thread_runner.time = _TimeWithPromptSleep()
