"""The memo store process (bot/processes/memo_store.py): under `tsunagi run` memos are stored
there, each once, whether it is paused, killed or not yet started; and the protocol between the
server and the store on its own, over a socket pair."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import replace

import pytest
from slack_bolt import BoltResponse
from sqlmodel import Session, func, select

from bot import failures
from bot.processes import memo_store
from bot.processes.memo_store import _Link
from handlers.common.reference import FailedElsewhere
from handlers.common.services import Services
from handlers.intake import writer
from models.base.db import transaction
from models.cases.memo import NotStored, StoredMemo
from models.cases.tables import Case
from tests.conftest import START, memo_values
from tests.e2e.test_worker import PARTNER
from tests.intake.test_memo_bursts import routed
from tests.support.processes import ROOT, alive, bot_env, child_of, wait_until


def cases(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Case)).one()


def receipt_number(answer: dict) -> str:
    return answer["view"]["blocks"][0]["text"]["text"].split("*")[1]


def test_memos_are_stored_by_the_store_process_and_wait_for_it(served, engine, tmp_path):
    """Paused, the store holds the memo back (the server does not store it beside it); resumed,
    it stores the memo and the person gets the receipt number."""
    proc, harness, _healthy = served
    store = child_of(proc, "store")
    wait_until(lambda: "memo store ready" in (tmp_path / "run.log").read_text())
    harness.send_memo(PARTNER)
    view = harness.open_memo(PARTNER)
    os.kill(store, signal.SIGSTOP)
    answers: list[dict] = []
    try:
        sender = threading.Thread(
            target=lambda: answers.append(
                harness.signed.submit(PARTNER, view, memo_values()).json()
            )
        )
        sender.start()
        time.sleep(0.5)
        assert cases(engine) == 1  # only the first: this one waits for the store
    finally:
        os.kill(store, signal.SIGCONT)
    sender.join(20)
    assert receipt_number(answers[0]) == "R8-0002"
    assert cases(engine) == 2


def test_a_killed_store_loses_nothing_and_doubles_nothing(served, engine, slack, tmp_path):
    proc, harness, healthy = served
    first = child_of(proc, "store")
    wait_until(lambda: "memo store ready" in (tmp_path / "run.log").read_text())
    numbers = [receipt_number(harness.send_memo(PARTNER))]
    os.kill(first, signal.SIGKILL)
    numbers.append(receipt_number(harness.send_memo(PARTNER)))  # the server, or a new store
    second = child_of(proc, "store", other_than=first)
    wait_until(lambda: (tmp_path / "run.log").read_text().count("memo store ready") == 2)
    wait_until(lambda: healthy()["memo_store"] == "running")
    numbers.append(receipt_number(harness.send_memo(PARTNER)))  # the new store
    assert second != first
    assert numbers == ["R8-0001", "R8-0002", "R8-0003"] and cases(engine) == 3
    wait_until(lambda: len(receipts(slack)) == 3)
    assert sorted(receipts(slack)) == [
        f"つなぎメモを受け付けました（受付番号 {n}）" for n in numbers
    ]


def receipts(slack) -> list[str]:
    return [
        m["text"] for m in slack.messages() if m["text"].startswith("つなぎメモを受け付けました")
    ]


# --- the protocol on its own -------------------------------------------------------------------


@pytest.fixture
def link(org):
    """A store serving in a thread at one end of a socket pair; the server's link at the other."""
    ours, theirs = socket.socketpair()
    svc = Services(engine=org, clock=lambda: START, kick_delivery=lambda: None)
    server = threading.Thread(target=memo_store.serve, args=(theirs.detach(), svc), daemon=True)
    server.start()
    held = _Link(ours)
    assert held.ready.wait(10)
    yield held
    held.close()
    server.join(10)


def test_memos_sent_at_once_each_get_their_own_receipt(link, org):
    with transaction(org) as session:
        memo = routed(session)
    outcomes: dict[str, object] = {}

    def send(i: int) -> None:
        outcomes[f"V{i}"] = link.store(memo, {"id": f"V{i}", "private_metadata": ""})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert all(isinstance(o, StoredMemo) for o in outcomes.values())
    assert sorted(o.number for o in outcomes.values()) == [f"R8-000{i}" for i in range(1, 7)]
    again = link.store(memo, {"id": "V3", "private_metadata": ""})  # 送信 pressed twice
    assert again is NotStored.duplicate and cases(org) == 6


def test_a_failure_in_the_store_reaches_the_person_with_its_reference(link, org, caplog):
    with transaction(org) as session:
        memo = routed(session)
    nowhere = replace(memo, target=replace(memo.target, id=999_999))  # no such agency
    caplog.set_level(logging.ERROR, logger="tsunagi.store")
    with pytest.raises(FailedElsewhere) as failed:
        link.store(nowhere, {"id": "V1", "private_metadata": ""})
    assert failed.value.reference.startswith("E-")
    assert any(failed.value.reference in r.getMessage() for r in caplog.records)
    assert cases(org) == 0


def test_when_the_store_ends_the_server_stores_the_memo_itself(org):
    ours, theirs = socket.socketpair()
    held = _Link(ours)
    process = memo_store.MemoStoreProcess()
    process._link = held
    with transaction(org) as session:
        memo = routed(session)
    assert process.store(memo, {"id": "V1"}) is None  # not ready yet: the server stores it
    held.ready.set()
    answers: list[object] = []
    sender = threading.Thread(
        target=lambda: answers.append(held.store(memo, {"id": "V1", "private_metadata": ""}))
    )
    sender.start()
    time.sleep(0.2)
    theirs.close()  # the store is gone before it answered
    sender.join(10)
    assert answers == [None]  # so the server stores it (once: the view's id decides)
    wait_until(lambda: held.closed.is_set())
    assert process.store(memo, {"id": "V2"}) is None


def test_a_stalled_store_is_ended_before_the_server_stores(db_url, org, slack, tmp_path):
    """No answer within `stalled_after`: the store is killed (whatever it held open is rolled
    back, never committed later), the server stores, and a new store takes the next memo."""
    log = (tmp_path / "store.log").open("w")
    process = memo_store.MemoStoreProcess(
        restart_after=0.2,
        stalled_after=1.0,
        env=bot_env(db_url, slack),
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    process.start()
    try:
        wait_until(lambda: process.running)
        with transaction(org) as session:
            memo = routed(session)
        first = process._proc.pid
        os.kill(first, signal.SIGSTOP)  # a stalled disk, as the server sees it
        assert process.store(memo, {"id": "V1", "private_metadata": ""}) is None
        assert not alive(first)  # ended before the server stores the memo itself
        wait_until(lambda: process.running and process._proc.pid != first)
        stored = process.store(memo, {"id": "V2", "private_metadata": ""})
        assert isinstance(stored, StoredMemo) and cases(org) == 1
    finally:
        process.stop()
        log.close()


def test_the_memo_store_answer_reaches_the_listener_in_place_of_the_servers(org, monkeypatch):
    """writer.store asks the store first; only a None from it makes the server store."""
    with transaction(org) as session:
        memo = routed(session)
    svc = Services(engine=org, clock=lambda: START, kick_delivery=lambda: None)
    given = StoredMemo(1, "R8-0042", "normal", memo.target.id, START)
    writer.store_elsewhere(lambda routed, view: given)
    try:
        assert writer.store(svc, memo, {"id": "V1", "private_metadata": ""}) is given
        writer.store_elsewhere(lambda routed, view: None)
        assert writer.store(svc, memo, {"id": "V1", "private_metadata": ""}).number == "R8-0001"
    finally:
        writer.store_elsewhere(None)
    assert cases(org) == 1


def test_a_failure_in_the_store_is_told_with_the_stores_reference():
    """The error handler answers with the code the store logged, not a new one."""
    body = {
        "type": "view_submission",
        "user": {"id": "U0PARTNER1"},
        "view": {"blocks": [{"type": "input", "block_id": "narrative"}]},
    }
    response = failures.answer(FailedElsewhere("E-TEST"), body, None, BoltResponse(status=200))
    assert "E-TEST" in json.loads(response.body)["errors"]["narrative"]
