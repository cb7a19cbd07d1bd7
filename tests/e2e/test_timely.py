"""A form whose work outlasts Slack's wait is still answered in time (handlers/common/timely.py):
the 「処理しています」 screen goes back as the acknowledgement, and the work's answer (the
receipt, field errors, a failure's reference code) replaces it by views.update. Through signed
HTTP requests; the Socket Mode path is in tests/e2e/test_socket_mode.py."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from sqlmodel import Session, func, select

from handlers.common import timely
from models.cases import memo as intake
from models.cases.lifecycle import CaseState
from models.cases.tables import Case, Referral
from models.queues.tables import Notice
from tests.conftest import START, memo_values
from tests.intake.test_busy_memo import held
from tests.support.desk import (
    bring_to,
    card_of,
    new_case,
    opened_after,
    pick_from_menu,
    state_of,
    state_of_view,
    submit,
)

WORKING = "処理しています。終わりしだい、この画面に結果を表示します。このままお待ちください。"
CODE = re.compile(r"E-[A-Z0-9]{4}")


def count(bot, model) -> int:
    with Session(bot.rt.engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def short_wait(monkeypatch):
    """The interim screen after 0.1 s instead of 2 s, so a test's slow work can outlast it."""
    monkeypatch.setattr(timely, "ANSWER_WITHIN", 0.1)
    monkeypatch.setattr(timely, "SETTLE", 0.0)


def slow_validation(monkeypatch, seconds: float = 0.5, error: Exception | None = None):
    """The memo's work takes `seconds` (a stalled disk, say), then goes on or raises `error`."""
    original = intake.validate

    def slow(session, memo):
        time.sleep(seconds)
        if error is not None:
            raise error
        return original(session, memo)

    monkeypatch.setattr(intake, "validate", slow)


def interim_text(answer) -> str:
    assert answer.status == 200, answer.text
    reply = answer.json()
    assert reply["response_action"] == "update"
    return json.dumps(reply["view"]["blocks"], ensure_ascii=False)


def shown_late(bot, view_id: str) -> str:
    """The screen's text once views.update replaced the interim screen."""
    [call] = bot.slack.wait_for(lambda: bot.slack.calls_to("views.update"))
    assert call.ok and call.args["view_id"] == view_id
    [shown] = [v for v in bot.slack.views_opened() if v["id"] == view_id]
    return json.dumps(shown["blocks"], ensure_ascii=False)


def test_a_memo_whose_work_outlasts_the_wait_gets_the_interim_screen_then_its_receipt(
    bot, monkeypatch, short_wait
):
    view = bot.open_memo("U0PARTNER1")
    slow_validation(monkeypatch)
    answer = bot.signed.submit("U0PARTNER1", view, memo_values())
    assert WORKING in interim_text(answer)
    assert "R8-0001" in shown_late(bot, view["id"])
    assert count(bot, Case) == 1 and count(bot, Referral) == 1
    # Slack sends the same submission again: still one memo, answered with the same receipt.
    monkeypatch.setattr(timely, "ANSWER_WITHIN", 2.0)
    again = bot.signed.submit("U0PARTNER1", view, memo_values())
    assert "R8-0001" in json.dumps(again.json(), ensure_ascii=False)
    assert count(bot, Case) == 1


def test_field_errors_found_late_are_listed_and_nothing_is_stored(bot, monkeypatch, short_wait):
    view = bot.open_memo("U0PARTNER1")
    slow_validation(monkeypatch)
    answer = bot.signed.submit("U0PARTNER1", view, memo_values(narrative="   "))
    assert WORKING in interim_text(answer)
    text = shown_late(bot, view["id"])
    assert "入力内容に確認が必要な項目がありました。何も保存されていません。" in text
    assert "•" in text
    assert count(bot, Referral) == 0 and count(bot, Notice) == 0


def test_a_failure_after_the_interim_screen_shows_the_logged_reference_code(
    bot, monkeypatch, short_wait, caplog
):
    view = bot.open_memo("U0PARTNER1")
    slow_validation(monkeypatch, error=RuntimeError("boom"))
    with caplog.at_level(logging.ERROR, logger="tsunagi.app"):
        answer = bot.signed.submit("U0PARTNER1", view, memo_values())
        assert WORKING in interim_text(answer)
        text = shown_late(bot, view["id"])
    assert "処理できませんでした。" in text
    (code,) = CODE.findall(text)
    assert f"[{code}]" in caplog.text
    assert count(bot, Referral) == 0
    assert not bot.slack.ephemerals() and not bot.slack.calls_to("chat.postMessage")


def test_a_database_held_past_the_wait_is_told_on_the_screen_and_nothing_is_stored(
    bot, db_url, short_wait
):
    view = bot.open_memo("U0PARTNER1")
    with held(db_url):
        answer = bot.signed.submit("U0PARTNER1", view, memo_values())
        assert WORKING in interim_text(answer)
        text = shown_late(bot, view["id"])
    # The form is gone, so not 「入力内容はそのままです」: the words for a screen without it.
    assert "ただいま混み合っています。何も変更されていません。" in text
    assert "入力内容はそのまま" not in text
    assert count(bot, Case) == 0 and count(bot, Notice) == 0


def test_an_answer_in_time_is_the_acknowledgement_alone(bot):
    view = bot.open_memo("U0PARTNER1")
    answer = bot.signed.submit("U0PARTNER1", view, memo_values())
    assert "R8-0001" in json.dumps(answer.json(), ensure_ascii=False)
    time.sleep(timely.SETTLE)
    assert not bot.slack.calls_to("views.update")


def close_form_answered_late(bot, monkeypatch) -> tuple[int, dict]:
    """R8-0001 taken by its window, and the 終結 form opened from its card; every form from now
    on gets the interim screen before any work."""
    monkeypatch.setattr(timely, "ANSWER_WITHIN", 0.0)
    monkeypatch.setattr(timely, "SETTLE", 0.0)
    case_id = new_case(bot.rt.engine, START)
    bring_to(bot.rt.engine, case_id, CaseState.window, START)
    bot.deliver()
    before = len(bot.slack.views_opened())
    pick_from_menu(bot, "U0WIN1", card_of(bot, "C0HOUKATSU", "R8-0001"), f"close:{case_id}")
    return case_id, opened_after(bot, before)


def test_a_case_step_answered_late_replaces_the_interim_screen(bot, monkeypatch):
    """Every form, not only the memo: here 終結 on a case's message (another listener)."""
    case_id, view = close_form_answered_late(bot, monkeypatch)
    filled = {**view, "state": {"values": state_of_view(view, {"close_reason": "connected"})}}
    answer = bot.signed.interaction(
        {"type": "view_submission", "user": {"id": "U0WIN1"}, "trigger_id": "x", "view": filled}
    )
    assert WORKING in interim_text(answer)
    assert "R8-0001 を終結しました。" in shown_late(bot, view["id"])
    assert state_of(bot.rt.engine, case_id) == "closed"


def test_the_test_helpers_read_a_late_answer_as_the_person_sees_it(bot, monkeypatch):
    """tests/support/forms.settled: a slow moment on a busy machine gives the same answer."""
    _, view = close_form_answered_late(bot, monkeypatch)
    answer = submit(bot, "U0WIN1", view, {"close_reason": "connected"})
    assert answer["response_action"] == "update"
    assert "R8-0001 を終結しました。" in json.dumps(answer["view"], ensure_ascii=False)
