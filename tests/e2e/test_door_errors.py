"""When a listener fails, the person is told in Japanese, with a reference code that is also in
the log line holding the traceback (issue 14, point 9)."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy.exc import OperationalError

from handlers.common import commands
from models.base.errors import Busy
from models.cases import memo as intake
from tests.conftest import memo_values

CODE = re.compile(r"E-[A-Z0-9]{4}")


def _logged_codes(caplog) -> list[str]:
    lines = [r for r in caplog.records if r.name == "tsunagi.app" and r.levelno == logging.ERROR]
    assert all("Traceback" in (r.exc_text or r.getMessage()) for r in lines)
    return [c for r in lines for c in CODE.findall(r.getMessage())]


def _submit_crashing(bot, monkeypatch, error: Exception):
    def crash(session, memo):
        raise error

    view = bot.open_memo("U0PARTNER1")
    monkeypatch.setattr(intake, "validate", crash)
    return bot.signed.submit("U0PARTNER1", view, memo_values())


def test_a_failing_memo_submission_answers_in_the_modal_with_the_logged_code(
    bot, monkeypatch, caplog
):
    answer = _submit_crashing(bot, monkeypatch, RuntimeError("boom"))
    assert answer.status == 200
    reply = answer.json()
    assert reply["response_action"] == "errors"
    (text,) = reply["errors"].values()
    assert text.startswith("処理できませんでした。")
    (code,) = CODE.findall(text)
    assert _logged_codes(caplog) == [code]
    assert "boom" not in caplog.text  # the exception's message is never logged


@pytest.mark.parametrize(
    "error",
    [
        Busy(),
        OperationalError("INSERT …", {}, Exception("database is locked")),
    ],
    ids=["busy", "sqlite-locked"],
)
def test_a_busy_database_tells_the_person_to_press_send_again(bot, monkeypatch, caplog, error):
    answer = _submit_crashing(bot, monkeypatch, error)
    (text,) = answer.json()["errors"].values()
    assert text.startswith("ただいま混み合っています。入力内容はそのままです。")
    assert CODE.findall(text) == _logged_codes(caplog)


def test_a_failing_command_in_a_channel_answers_with_an_ephemeral(bot, monkeypatch, caplog):
    def crash(ack, body, client, context, args):
        raise RuntimeError("boom")

    monkeypatch.setitem(commands.subcommands_of(bot.rt.app), "help", crash)
    answer = bot.signed.command(
        "U0COORD", "help", trigger_id=bot.slack.issue_trigger_id(), channel="C0COORD"
    )
    assert answer.status == 200
    (eph,) = bot.slack.wait_for(lambda: bot.slack.ephemerals(user="U0COORD"))
    assert eph["text"].startswith("処理できませんでした。")
    assert CODE.findall(eph["text"]) == _logged_codes(caplog)


def test_a_failing_command_where_the_bot_cannot_post_answers_by_dm(bot, monkeypatch, caplog):
    def crash(ack, body, client, context, args):
        raise RuntimeError("boom")

    monkeypatch.setitem(commands.subcommands_of(bot.rt.app), "help", crash)
    answer = bot.signed.command("U0COORD", "help", trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200
    (dm,) = bot.slack.wait_for(lambda: bot.slack.messages("DU0COORD"))
    assert CODE.findall(dm["text"]) == _logged_codes(caplog)
    assert "参照番号" in dm["text"]


def test_a_failure_after_the_acknowledgement_is_told_by_dm(bot, monkeypatch, caplog):
    def crash(ack, body, client, context, args):
        ack()
        raise RuntimeError("boom")

    monkeypatch.setitem(commands.subcommands_of(bot.rt.app), "help", crash)
    answer = bot.signed.command("U0COORD", "help", trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200
    (dm,) = bot.slack.wait_for(lambda: bot.slack.messages("DU0COORD"))
    assert dm["text"].startswith("処理できませんでした。")
    assert CODE.findall(dm["text"]) == _logged_codes(caplog)
