"""Bolt's request thread waits for ack() by sleeping in short steps; an ack() ends the sleep."""

from __future__ import annotations

import threading

from slack_bolt.listener import thread_runner

from bot.server import PromptAck, install_prompt_ack


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
