"""`tsunagi reminders list [--all]` and `tsunagi reminders send-due [--at]`."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.cli.main import main
from models.base.db import transaction
from models.cases import memo as intake
from models.cases.memo import MemoInput
from models.org.tables import Member
from reminders.memo import schedule_ack_reminders
from tests.conftest import START, TEST_KEY
from tests.intake.test_intake_e2e import PERSONAL


@pytest.fixture
def cli_env(monkeypatch, db_url, slack):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    monkeypatch.setenv("TSUNAGI_CHANNEL_INTERVAL", "0")
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)


@pytest.fixture
def memo(org):
    """One memo about the synthetic 辰野 試験子, stored with its acknowledgement reminders."""
    with transaction(org) as session:
        partner = session.exec(select(Member).where(Member.slack_id == "U0PARTNER1")).one()
        case = intake.submit(
            session,
            memo=MemoInput(
                narrative="試験用の相談内容です。",
                concerns=["kaigo"],
                urgency="normal",
                consent_to_share="yes",
                age_band="75+",
                person_name="辰野 試験子",
                person_kana="たつの しけんこ",
                contact="0266-00-0000",
            ),
            referrer=partner,
            view_id=None,
            at=START,
        )
        schedule_ack_reminders(session, case=case, at=START)
    return case


def test_list_shows_pending_reminders_without_personal_data(cli_env, memo, capsys):
    assert main(["reminders", "list"]) == 0
    out = capsys.readouterr().out
    assert "R8-0001" in out and "memo_ack" in out and "memo_ack_escalation" in out
    assert "agency:houkatsu" in out and "agency:suishin" in out
    assert "2026-12-01 10:00" in out and "2026-12-03 10:00" in out  # JST
    assert "送信待ち" in out and "2件" in out
    for value in PERSONAL:
        assert value not in out


def test_send_due_at_a_time_sends_what_is_due_then(cli_env, memo, slack, capsys):
    assert main(["reminders", "send-due", "--at", "2026-12-01T09:59"]) == 0
    out = capsys.readouterr().out
    assert "送信 0件" in out and "メッセージを 2件" in out  # the memo's card and receipt
    assert main(["reminders", "send-due", "--at", "2026-12-01T10:00"]) == 0  # JST when no zone
    out = capsys.readouterr().out
    assert "送信 1件" in out and "メッセージを 1件" in out
    assert any("R8-0001" in m["text"] for m in slack.messages("C0HOUKATSU"))
    assert main(["reminders", "send-due", "--at", "2026-12-01T10:00+09:00"]) == 0
    assert "送信 0件" in capsys.readouterr().out  # nothing twice

    assert main(["reminders", "list"]) == 0
    assert "memo_ack " not in capsys.readouterr().out  # sent: no longer pending
    assert main(["reminders", "list", "--all"]) == 0
    out = capsys.readouterr().out
    assert "送信済み" in out and "送信待ち" in out


def test_list_when_there_is_nothing(cli_env, org, capsys):
    assert main(["reminders", "list"]) == 0
    assert "ありません" in capsys.readouterr().out
    assert main(["reminders", "list", "--all"]) == 0
    assert "まだありません" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T10:00", "12/1 10:00"])
def test_send_due_refuses_a_bad_time(cli_env, org, value, capsys):
    assert main(["reminders", "send-due", "--at", value]) == 2
    assert "2026-12-01T08:30" in capsys.readouterr().err


def test_send_due_refuses_a_time_years_ahead_and_sends_nothing(cli_env, memo, slack, capsys):
    assert main(["reminders", "send-due", "--at", "2031-12-01T10:00"]) == 2
    captured = capsys.readouterr()
    assert "1年以上先" in captured.err and "Traceback" not in captured.err
    assert slack.calls_to("chat.postMessage") == []  # nothing sent, nothing claimed
    assert main(["reminders", "list"]) == 0
    assert "送信待ち" in capsys.readouterr().out


def test_send_due_warns_about_a_past_time_and_goes_on(cli_env, memo, capsys):
    assert main(["reminders", "send-due", "--at", "2026-11-01T10:00"]) == 0
    out = capsys.readouterr().out
    assert "注意" in out and "より前" in out and "送信 0件" in out


def test_send_due_needs_the_bot_token(cli_env, org, monkeypatch, capsys):
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["reminders", "send-due"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_commands_refuse_a_database_that_is_not_upgraded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    assert main(["reminders", "list"]) == 2
    assert "tsunagi db upgrade" in capsys.readouterr().err
    assert main(["reminders", "send-due"]) == 2
    assert "tsunagi db upgrade" in capsys.readouterr().err
