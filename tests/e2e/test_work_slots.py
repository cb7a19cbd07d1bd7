"""Acknowledgements first: the work after ack() runs two listeners at a time, and no
acknowledgement waits for it (handlers/common/slots.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from handlers.common import commands, slots
from handlers.common.commands import Reply
from handlers.common.services import services
from models.base.db import transaction
from sandbox.standin.signed import SignedSlack
from tests.conftest import SIGNING_SECRET
from tests.e2e.test_socket_mode import sbot, socket  # noqa: F401  (fixtures)
from tests.linknet.test_linknet_e2e import answers_to, placeholder

MEMBER = "U0WIN1"
COMMAND = "slowtest"


def _work_in_the_door(app, inside_transaction) -> None:
    """`/tsunagi slowtest`: a subcommand whose work reads the database in the door after its
    ack, as the features' slow subcommands do (`mine`, `status` are answered by the worker:
    handlers/common/deferred.py)."""

    def work(body, client, context, args):
        with transaction(services(context).engine, write=False):
            inside_transaction()
        return Reply("できました。")

    commands.subcommands_of(app).pop(COMMAND, None)  # a test may set it again
    commands.add_slow(app, (COMMAND,), work)


def _held_work(monkeypatch, app):
    """/tsunagi slowtest whose work, after the ack, waits until the test lets it go."""
    inside, release = [], threading.Event()
    lock = threading.Lock()

    def held():
        with lock:
            inside.append(threading.get_ident())
        release.wait(20)

    _work_in_the_door(app, held)
    return inside, release


def _commands(bot, count: int) -> list:
    """`count` people at once, each with a connection of their own."""

    def ask(i: int):
        return SignedSlack(bot.url, SIGNING_SECRET).command(MEMBER, COMMAND, trigger_id=f"t{i}")

    with ThreadPoolExecutor(count) as pool:
        return [a.result(timeout=10) for a in [pool.submit(ask, i) for i in range(count)]]


def test_four_commands_are_all_acknowledged_while_two_work(bot, monkeypatch):
    monkeypatch.setattr(slots, "SLOT_WAIT", 30.0)  # nobody goes on without a slot here
    inside, release = _held_work(monkeypatch, bot.rt.app)
    try:
        answers = _commands(bot, 4)
        # Every person got the placeholder while the work of two was still held.
        assert [placeholder(a) for a in answers] == ["作成しています…少しお待ちください。"] * 4
        bot.slack.wait_for(lambda: len(inside) == 2)
        time.sleep(0.3)  # had a third listener not waited for a slot, it would be inside now
        assert len(inside) == 2
    finally:
        release.set()
    bot.slack.wait_for(lambda: len(inside) == 4)
    replies = bot.slack.wait_for(lambda: len(answers_to(bot, MEMBER)) == 4 or None)
    assert replies


def test_a_listener_waits_for_a_slot_only_a_moment(bot, monkeypatch):
    monkeypatch.setattr(slots, "SLOT_WAIT", 0.2)
    inside, release = _held_work(monkeypatch, bot.rt.app)
    try:
        answers = _commands(bot, 3)
        assert all(a.status == 200 for a in answers)
        # Two hold their slots; the third goes on without one after SLOT_WAIT.
        bot.slack.wait_for(lambda: len(inside) == 3)
    finally:
        release.set()
    bot.slack.wait_for(lambda: len(answers_to(bot, MEMBER)) == 3 or None)


def test_the_turns_are_free_again_after_a_listener_fails(bot, monkeypatch):
    monkeypatch.setattr(slots, "SLOT_WAIT", 30.0)

    def broken():
        raise RuntimeError("a failure after the acknowledgement")

    _work_in_the_door(bot.rt.app, broken)
    for answer in _commands(bot, 4):
        assert answer.status == 200
    # each is told of the failure (with its reference code) after its turn ended
    bot.slack.wait_for(lambda: len(answers_to(bot, MEMBER)) == 4 or None)
    inside, release = _held_work(monkeypatch, bot.rt.app)
    try:
        _commands(bot, 2)
        bot.slack.wait_for(lambda: len(inside) == 2)  # both turns were given back
    finally:
        release.set()
    bot.slack.wait_for(lambda: len(answers_to(bot, MEMBER)) == 6 or None)


def test_in_socket_mode_too_every_envelope_is_acknowledged_while_two_work(sbot, monkeypatch):  # noqa: F811
    monkeypatch.setattr(slots, "SLOT_WAIT", 30.0)
    inside, release = _held_work(monkeypatch, sbot.rt.app)
    try:
        acks = [sbot.socket.command(MEMBER, COMMAND, trigger_id=f"s{i}") for i in range(4)]
        assert [a.get("text") for a in acks] == ["作成しています…少しお待ちください。"] * 4
        sbot.slack.wait_for(lambda: len(inside) == 2)
        time.sleep(0.3)  # had a third listener not waited for a slot, it would be inside now
        assert len(inside) == 2
    finally:
        release.set()
    sbot.slack.wait_for(lambda: len(answers_to(sbot, MEMBER)) == 4 or None)


class _Counting:
    """The pool's turns, counting how often a turn was asked for."""

    def __init__(self, inner) -> None:
        self.inner, self.asked = inner, 0

    def acquire(self, timeout=None) -> bool:
        self.asked += 1
        return self.inner.acquire(timeout=timeout)

    def release(self) -> None:
        self.inner.release()


def test_a_listener_that_waited_once_goes_on_without_turns_and_others_never_wait(monkeypatch):
    monkeypatch.setattr(slots, "SLOT_WAIT", 0.05)
    pool = slots.ListenerPool(max_workers=3)
    pool._turns = counting = _Counting(pool._turns)
    all_in, let_go = threading.Barrier(3), threading.Event()

    def holder():
        slots.acknowledged()
        with slots.turn():
            all_in.wait(5)
            let_go.wait(5)

    def late():
        slots.acknowledged()
        all_in.wait(5)  # both turns are taken now
        held = []
        for _ in range(3):  # three transactions: only the first waits
            with slots.turn():
                held.append(slots._here.holding)
        return held

    holders = [pool.submit(holder), pool.submit(holder)]
    assert pool.submit(late).result(5) == [False, False, False]
    let_go.set()
    for h in holders:
        h.result(5)
    pool.shutdown()
    assert counting.asked == 3  # two holders, and the late listener once
    slots.acknowledged()  # outside a listener (a request's own thread): nothing to wait for
    with slots.turn():
        pass
    assert counting.asked == 3
