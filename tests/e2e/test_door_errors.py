"""When a listener fails, the person is told in Japanese, with a reference code that is also in
the log line holding the traceback (issue 14, point 9)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy.exc import OperationalError

from handlers.common import commands, forms, ids
from handlers.desk import listeners as desk
from handlers.home import listeners as home
from handlers.meetings import schedule_listeners
from models.base.errors import Busy
from models.cases import memo as intake
from models.cases.lifecycle import CaseState
from tests.conftest import START, memo_values
from tests.support.desk import bring_to, new_case
from tests.support.meetings import options

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


# --- failures before the acknowledgement are answered before any Slack call ---------------------


def test_a_failure_before_the_ack_is_answered_before_the_note_is_sent(bot, monkeypatch, caplog):
    """Slack gets its answer at once; the note to the person follows (a slow Slack once held
    the answer back past Slack's 3 seconds)."""

    def crash(ack, body, client, context, args):
        raise RuntimeError("boom")

    monkeypatch.setitem(commands.subcommands_of(bot.rt.app), "help", crash)
    with bot.slack.hold("chat.postEphemeral", timeout=10):
        answer = bot.signed.command(
            "U0COORD", "help", trigger_id=bot.slack.issue_trigger_id(), channel="C0COORD"
        )
        assert answer.status == 200
        assert bot.slack.ephemerals(user="U0COORD") == []  # the note waits for Slack, not us
    (eph,) = bot.slack.wait_for(lambda: bot.slack.ephemerals(user="U0COORD"))
    assert CODE.findall(eph["text"]) == _logged_codes(caplog)


def test_a_failing_option_list_answers_an_empty_list_then_tells(bot, monkeypatch, caplog):
    def crash(value):
        raise RuntimeError("boom")

    monkeypatch.setattr(schedule_listeners, "_normalised_query", crash)
    view = {"id": "V0SCHEDULE", "type": "modal", "private_metadata": "{}"}
    with bot.slack.hold("chat.postMessage", timeout=10):
        assert options(bot, "U0COORD", view, "R8") == []  # answered, not waiting for Slack
    (dm,) = bot.slack.wait_for(lambda: bot.slack.messages("DU0COORD"))
    assert CODE.findall(dm["text"]) == _logged_codes(caplog)


def test_a_failing_form_without_fields_is_replaced_by_the_failure(bot, monkeypatch, caplog):
    """A form with no input to hang an error on (a step that only asks to confirm): the answer
    replaces it with a notice that holds the code; no Slack call is made for it."""

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    case_id = new_case(bot.rt.engine, START)
    bring_to(bot.rt.engine, case_id, CaseState.coordination, START)
    monkeypatch.setattr(desk, "_apply", crash)
    view = {
        "id": "V0STEP",
        "type": "modal",
        "callback_id": ids.VIEW_CASE_STEP,
        "private_metadata": forms.metadata(case_id=case_id, step="start_assessment"),
        "blocks": [],
        "state": {"values": {}},
    }
    calls = len(bot.slack.calls)
    answer = bot.signed.interaction(
        {"type": "view_submission", "user": {"id": "U0COORD", "team_id": "T0TEST"}, "view": view}
    )
    reply = answer.json()
    assert reply["response_action"] == "update"
    text = json.dumps(reply["view"], ensure_ascii=False)
    assert "処理できませんでした" in text
    assert CODE.findall(text) == _logged_codes(caplog)
    assert bot.slack.calls[calls:] == []


def test_a_failing_home_tab_shows_the_failure_there(bot, monkeypatch, caplog):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(home, "build_desk", crash)
    opened = {"type": "app_home_opened", "user": "U0COORD", "tab": "home", "channel": "DU0COORD"}
    assert bot.signed.event(opened, event_id="EvCrash").status == 200
    (call,) = bot.slack.wait_for(lambda: bot.slack.calls_to("views.publish"))
    text = json.dumps(call.args["view"], ensure_ascii=False)
    assert "処理できませんでした" in text
    assert CODE.findall(text) == _logged_codes(caplog)
