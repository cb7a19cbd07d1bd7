"""Bolt's request thread waits for ack() by sleeping in short steps; an ack() ends the sleep."""

from __future__ import annotations

import threading
import time

from slack_bolt import Ack, BoltResponse
from slack_bolt.listener import thread_runner

from bot.server import PromptAck, install_prompt_ack
from handlers.common import commands
from handlers.common.timely import Acknowledgement


def test_an_ack_wakes_the_thread_waiting_for_it():
    install_prompt_ack()
    woke = threading.Event()
    made: list[PromptAck] = []

    def wait() -> None:
        made.append(PromptAck())  # as the request's own thread makes it (bot/server.py)
        thread_runner.time.sleep(60)  # Bolt's poll step; here a long one
        woke.set()

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    while not made:
        woke.wait(0.01)
    ack = made[0]
    for _ in range(100):  # an ack before the waiter sleeps wakes nobody: ack again
        ack(text="ok")
        if woke.wait(0.05):
            break
    assert woke.is_set(), "still asleep: ack() did not wake the 60 s wait"
    assert ack.response.status == 200


def test_the_runner_still_sees_the_rest_of_the_time_module():
    install_prompt_ack()
    assert thread_runner.time.time() > 0
    assert thread_runner.time.monotonic() > 0


class _SlowLook:
    """Bolt's runner as a busy machine runs it: its request thread looks late for the ack."""

    def __init__(self) -> None:
        self.looking = threading.Event()

    def __getattr__(self, name: str):
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        self.looking.set()
        time.sleep(0.3)


def test_an_answer_given_stays_given_when_the_listener_then_fails(bot, monkeypatch):
    """Bolt's runner sets the answer back to None when a listener fails after its ack(); a
    request thread that had not yet looked then answered Slack 404 after 3 s. The ack every
    listener gets (handlers/common/timely.Acknowledgement) keeps the answer."""

    slow = _SlowLook()

    def acknowledged_then_failed(ack, body, client, context, args):
        slow.looking.wait(5)  # the request thread has looked once and sleeps
        ack(text="ok")
        raise RuntimeError("after the ack")

    monkeypatch.setitem(commands.subcommands_of(bot.rt.app), "help", acknowledged_then_failed)
    monkeypatch.setattr(thread_runner, "time", slow)
    answer = bot.signed.command("U0PARTNER1", "help", trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200, answer.text
    assert answer.text == "ok"


def test_the_acknowledgement_ignores_a_later_none():
    inner = Ack()
    ack = Acknowledgement(inner)
    assert ack.response is None
    ack(text="ok")
    ack.response = None  # what Bolt's runner does after a failure
    assert ack.response is not None and ack.response.status == 200
    fresh = Acknowledgement(Ack())
    fresh.response = BoltResponse(status=500)  # a failure before any ack: Bolt's 500 stands
    assert fresh.response.status == 500
