"""A click on a channel card (引き受ける) is stored at the door and done by the worker
(handlers/common/deferred.py): the door answers Slack and stores ids only; the worker does the
action once, under its claim, retries a failure and answers the person after the last try."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from sqlmodel import Session, select

from bot.delivery import _run_click, run_clicks
from handlers.common import deferred, ids
from handlers.common.services import CONTEXT_KEY, services
from models.base.errors import Busy
from models.cases import memo as intake
from models.cases.tables import Case, CaseEvent
from models.ops.audit import AuditEntry
from models.queues import clicks, lease
from models.queues.tables import Click
from sandbox.standin.signed import click_payload
from tests.conftest import START, TEST_KEY
from tests.desk.test_click_reply import PERSONAL
from tests.e2e.test_socket_mode import memo_card, sbot, socket  # noqa: F401  (fixtures)
from tests.linknet.test_linknet_e2e import answers_to, placeholder
from tests.ops.test_backup import PG_TOOLS, cli
from tests.support.desk import new_case

CODE = re.compile(r"E-[A-Z0-9]{4}")


def card_of_new_case(bot) -> dict:
    new_case(bot.rt.engine, START)
    bot.deliver()  # the case's card in the window's channel
    return memo_card(bot.slack, "C0HOUKATSU")


def click(bot, card: dict, user: str = "U0WIN1"):
    answer = bot.signed.click(
        user, card, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=bot.slack.issue_trigger_id()
    )
    assert answer.status == 200
    return answer


def stored(engine, at_least: int = 1) -> list[Click]:
    """The stored clicks, once `at_least` are there: the listener hands a click to the door's
    writer after its ack, so the HTTP answer may come back before it is even taken."""
    deadline = time.monotonic() + 20
    while True:
        assert deferred.flush(), "the door's writer did not store the clicks in time"
        with Session(engine) as s:
            rows = list(s.exec(select(Click).order_by(Click.id)))
        if len(rows) >= at_least or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def the_case(engine) -> Case:
    with Session(engine) as s:
        return s.exec(select(Case)).one()


def test_the_door_stores_the_click_with_ids_only_and_the_worker_does_it_once(bot):
    card = card_of_new_case(bot)
    click(bot, card)
    [c] = stored(bot.rt.engine)
    assert c.state == "pending" and c.action == ids.ACTION_CASE_ACKNOWLEDGE
    assert set(c.payload) == {"user", "team", "channel", "value", "click"}
    assert not any(w in json.dumps(c.payload, ensure_ascii=False) for w in PERSONAL)
    assert the_case(bot.rt.engine).acknowledged_at is None  # not done by the door
    [said] = bot.answers("U0WIN1")  # the worker's round: the click, then its answer
    assert "引き受けました" in said["text"] and said["channel"] == "C0HOUKATSU"
    assert the_case(bot.rt.engine).state == "window"
    assert [c.state for c in stored(bot.rt.engine)] == ["done"]
    bot.deliver()
    bot.deliver()
    assert len(bot.slack.ephemerals("U0WIN1")) == 1


def test_a_click_already_taken_is_answered_with_why(bot):
    card = card_of_new_case(bot)
    click(bot, card)
    bot.answers("U0WIN1")
    click(bot, card, user="U0COORD")
    [said] = bot.answers("U0COORD")
    assert "R8-0001" in said["text"] and "引き受けました" not in said["text"]
    assert [c.state for c in stored(bot.rt.engine)] == ["done", "done"]


def test_a_person_without_the_right_is_refused_and_nothing_changes(bot):
    card = card_of_new_case(bot)
    click(bot, card, user="U0PARTNER1")
    [said] = bot.answers("U0PARTNER1")
    assert "引き受けました" not in said["text"]
    assert the_case(bot.rt.engine).acknowledged_at is None
    with Session(bot.rt.engine) as s:
        refused = s.exec(select(AuditEntry).where(AuditEntry.allowed == False)).all()  # noqa: E712
    assert len(refused) == 1  # the refusal is audited, in the click's transaction


def test_the_same_click_sent_twice_is_stored_once(bot):
    card = card_of_new_case(bot)
    payload = click_payload("U0WIN1", card, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id="t1")
    assert bot.signed.interaction(payload).status == 200
    assert bot.signed.interaction(payload).status == 200  # a retried request
    assert len(stored(bot.rt.engine)) == 1


def test_a_failing_action_is_retried_and_then_answered_with_a_reference(
    bot, clock, monkeypatch, caplog
):
    card = card_of_new_case(bot)
    real = intake.acknowledge

    def crash(*a, **kw):
        raise RuntimeError(" ".join(PERSONAL))  # may quote a person: never logged

    monkeypatch.setattr(intake, "acknowledge", crash)
    click(bot, card)
    caplog.set_level(logging.DEBUG)
    for _ in range(clicks.MAX_ATTEMPTS):
        bot.deliver()
        clock.advance(seconds=120)  # past the retry's wait
    [said] = bot.answers("U0WIN1")
    assert said["text"].startswith("処理できませんでした。")
    logged = [r for r in caplog.records if r.name == "tsunagi.clicks" and r.levelno >= 40]
    assert len(logged) == clicks.MAX_ATTEMPTS
    assert CODE.findall(said["text"]) == CODE.findall(logged[-1].getMessage())
    assert "試験子" not in caplog.text
    assert [c.state for c in stored(bot.rt.engine)] == ["failed"]
    assert the_case(bot.rt.engine).acknowledged_at is None  # each try rolled back whole
    monkeypatch.setattr(intake, "acknowledge", real)


def test_a_failure_that_passes_is_done_on_the_next_try(bot, clock, monkeypatch):
    card = card_of_new_case(bot)
    real = intake.acknowledge
    calls = []

    def once_broken(*a, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a hiccup")
        return real(*a, **kw)

    monkeypatch.setattr(intake, "acknowledge", once_broken)
    click(bot, card)
    bot.deliver()
    assert bot.slack.ephemerals("U0WIN1") == []  # waiting for its retry
    clock.advance(seconds=60)
    [said] = bot.answers("U0WIN1")
    assert "引き受けました" in said["text"]
    assert the_case(bot.rt.engine).state == "window"


def test_a_claim_taken_over_by_another_worker_is_left_alone(bot, clock):
    """A worker that stalled past its lease: the click went to another, which did it; the
    first finds its token gone and changes nothing (no second 受付, no second answer)."""
    card = card_of_new_case(bot)
    click(bot, card)
    engine = bot.rt.engine
    assert len(stored(engine)) == 1  # the door's writer has stored it
    [first] = clicks.claim_due(engine, now=START, worker="stalled/1")
    with Session(engine) as s:  # its lease ran out: put back, as the next claim does
        row = s.get(Click, first.id)
        row.claimed_at = lease.expired_before().replace(year=2000)
        s.add(row)
        s.commit()
    assert run_clicks(bot.rt.delivery.services, "second") == 1
    assert run_clicks(bot.rt.delivery.services, "second") == 0
    _run_click(bot.rt.delivery.services, first, "stalled/1")  # the first worker, waking late
    bot.deliver()
    assert len(bot.slack.ephemerals("U0WIN1")) == 1
    with Session(engine) as s:
        taken = s.exec(select(CaseEvent).where(CaseEvent.kind == "acknowledged")).all()
    assert len(taken) == 1


def test_a_busy_database_at_the_door_tells_the_person_and_stores_nothing(bot, monkeypatch, caplog):
    card = card_of_new_case(bot)

    def busy(*a, **kw):
        raise Busy()

    monkeypatch.setattr(clicks, "enqueue", busy)
    click(bot, card)
    [said] = bot.slack.wait_for(lambda: bot.slack.ephemerals("U0WIN1"))
    assert said["text"].startswith("ただいま混み合っています。")
    assert CODE.findall(said["text"]) == CODE.findall(caplog.text)
    monkeypatch.undo()
    assert stored(bot.rt.engine, at_least=0) == []


def test_a_busy_database_in_the_worker_is_waited_out_not_counted_as_a_try(
    bot, clock, monkeypatch, caplog
):
    """A backup holding the database while the worker answers: the click goes back without
    using up a try, and the answer follows once the database is free, with no failure."""
    new_case(bot.rt.engine, START)
    real, calls = deferred.answer_command, []

    def busy_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Busy()
        return real(*args, **kwargs)

    monkeypatch.setattr(deferred, "answer_command", busy_once)
    bot.signed.command("U0COORD", "status R8-0001", trigger_id="t-busy-worker")
    stored(bot.rt.engine)
    assert run_clicks(bot.rt.delivery.services, "w") == 1
    [c] = stored(bot.rt.engine)
    assert (c.state, c.attempts, c.last_error) == ("pending", 0, "busy")
    assert answers_to(bot, "U0COORD") == []
    clock.advance(seconds=10)
    [said] = said_to(bot, "U0COORD")
    assert "R8-0001" in said["text"] and "混み合って" not in said["text"]
    assert "click failed" not in caplog.text
    assert [c.state for c in stored(bot.rt.engine)] == ["done"]


def test_the_workers_listener_work_keeps_the_long_lock_wait(bot):
    worker = bot.rt.delivery.services
    assert services({CONTEXT_KEY: worker}).engine is worker.engine
    assert services({CONTEXT_KEY: bot.rt.services}).engine is not bot.rt.services.engine


@pytest.mark.parametrize("container", ["view", "message"])
def test_only_a_click_on_a_channel_message_is_stored(bot, container):
    card = card_of_new_case(bot)
    payload = click_payload(
        "U0WIN1", card, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=bot.slack.issue_trigger_id()
    )
    if container == "view":  # the same button in the case's detail modal
        payload["container"] = {"type": "view", "view_id": "V0X"}
        payload.pop("channel", None)
        payload.pop("message", None)
    assert bot.signed.interaction(payload).status == 200
    expected = 1 if container == "message" else 0
    assert len(stored(bot.rt.engine, at_least=expected)) == expected


# --- subcommands the worker answers: /tsunagi mine, status, outreach list ----------------------


def said_to(bot, user: str, before: int = 0) -> list[dict]:
    def answered() -> list[dict]:
        deferred.flush()
        bot.rt.delivery.run_once()  # the worker's round
        return answers_to(bot, user)[before:]

    return bot.slack.wait_for(answered)


def test_status_stores_only_the_receipt_number_and_is_answered_once(bot):
    new_case(bot.rt.engine, START)
    answer = bot.signed.command("U0COORD", "status ｒ８－０００１", trigger_id="t-status")
    assert placeholder(answer) == "作成しています…少しお待ちください。"
    [c] = stored(bot.rt.engine)
    assert c.action == "command:status" and c.payload["args"] == ["R8-0001"]
    [said] = said_to(bot, "U0COORD")
    assert "R8-0001" in said["text"]
    bot.deliver()
    assert len(answers_to(bot, "U0COORD")) == 1
    assert [c.state for c in stored(bot.rt.engine)] == ["done"]


def test_a_subcommand_that_fails_after_its_work_audits_it_once(bot, clock, monkeypatch):
    """The answer to `status` is worked out, then queuing it fails (as a worker killed just
    there would): the retry answers once, and the refusal it audits is in the log once."""
    real = deferred._answer
    calls = []

    def once_broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the worker stopped here")
        return real(*args, **kwargs)

    monkeypatch.setattr(deferred, "_answer", once_broken)
    bot.signed.command("U0PARTNER1", "status R8-0999", trigger_id="t-gone")
    stored(bot.rt.engine)
    bot.deliver()
    assert answers_to(bot, "U0PARTNER1") == []  # waiting for its retry
    clock.advance(seconds=60)
    [said] = said_to(bot, "U0PARTNER1")
    assert "見つからないか、あなたが見られるケースではありません" in said["text"]
    with Session(bot.rt.engine) as s:
        refusals = s.exec(select(AuditEntry).where(AuditEntry.allowed == False)).all()  # noqa: E712
    assert len(refusals) == 1


def test_other_typed_text_is_never_stored(bot):
    bot.signed.command("U0COORD", "status 辰野 試験子 0266-00-0000", trigger_id="t-typed")
    [c] = stored(bot.rt.engine)
    assert c.payload["args"] == ["-"]  # answered with the usage, as before
    assert not any(w in json.dumps(c.payload, ensure_ascii=False) for w in PERSONAL)
    [said] = said_to(bot, "U0COORD")
    assert "R8-" in said["text"]  # the usage names the form of a receipt number


def test_outreach_without_list_opens_its_form_at_the_door(bot):
    opened = len(bot.slack.views_opened())
    bot.signed.command("U0COORD", "outreach", trigger_id=bot.slack.issue_trigger_id())
    assert bot.slack.wait_for(lambda: bot.slack.views_opened()[opened:])
    assert stored(bot.rt.engine, at_least=0) == []


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("mine", "引き受け"),
        ("meeting", "予定されている会議はありません"),
        ("resources", "重層推進室"),  # the refusal: the list is the coordinator's
    ],
)
def test_in_socket_mode_answers_in_words_come_from_the_worker(sbot, words, said):  # noqa: F811
    ack = sbot.socket.command("U0WIN1", words, trigger_id=f"s-{words}")
    assert ack.get("text") == "作成しています…少しお待ちください。"
    [c] = stored(sbot.rt.engine)
    assert c.action == f"command:{words}" and c.payload["args"] == []
    [answer] = said_to(sbot, "U0WIN1")
    assert said in answer["text"]


def test_in_socket_mode_the_coordinators_form_still_opens_at_the_door(sbot):  # noqa: F811
    opened = len(sbot.slack.views_opened())
    trigger = sbot.slack.issue_trigger_id()
    ack = sbot.socket.command("U0COORD", "resources", trigger_id=trigger)
    assert not ack.get("text")  # no placeholder: the form is the answer
    sbot.slack.wait_for(lambda: len(sbot.slack.views_opened()) > opened)
    assert stored(sbot.rt.engine, at_least=0) == []


def test_a_click_open_in_a_restored_backup_is_done_again_but_answered_once(
    bot, db_url, monkeypatch, capsys, tmp_path
):
    """The backup is taken while a click waits for the worker; the worker does it and answers;
    the backup is restored. The restored data lost the click's effect, so it is done again —
    without a second 引き受けました to the person."""
    if db_url.startswith("postgresql") and not PG_TOOLS:
        pytest.skip("pg_dump/pg_restore are not installed")
    card = card_of_new_case(bot)
    click(bot, card)
    [c] = stored(bot.rt.engine)
    assert c.state == "pending"
    code, out = cli(monkeypatch, capsys, db_url, TEST_KEY, "backup", tmp_path / "b.db")
    assert code == 0, out
    [said] = bot.answers("U0WIN1")  # done and answered after the backup
    assert "引き受けました" in said["text"]
    code, out = cli(monkeypatch, capsys, db_url, TEST_KEY, "restore", tmp_path / "b.db", "--force")
    assert code == 0, out
    bot.rt.engine.dispose()
    assert the_case(bot.rt.engine).acknowledged_at is None  # the restore took it back
    bot.deliver()
    assert the_case(bot.rt.engine).acknowledged_at is not None  # done again
    bot.deliver()
    assert len(bot.slack.ephemerals("U0WIN1")) == 1  # answered once
    assert [c.state for c in stored(bot.rt.engine)] == ["done"]
