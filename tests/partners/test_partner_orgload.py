"""`tsunagi org load` warns when a case channel (the coordinator's, a window's) is shared with
another organisation (issue 17, point 4): asked of the stand-in through SLACK_API_URL, only when
a bot token is set; Slack out of reach is one line and the load still stands."""

from __future__ import annotations

import socket

from sqlmodel import select

from bot.cli.main import main
from models.base.db import transaction
from models.org.tables import Agency
from tests.partners.conftest import PARTNER_TEAM, org_text

SHARED = "共有されています"


def org_load(tmp_path, monkeypatch, capsys, db_url, key, *, token, api_url) -> tuple[int, str]:
    path = tmp_path / "町の組織.toml"
    path.write_text(org_text(), encoding="utf-8")
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", key)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    if token:
        monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    else:
        monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_API_URL", api_url)
    code = main(["org", "load", str(path)])
    out = capsys.readouterr()
    return code, out.out + out.err


def loaded(engine) -> bool:
    with transaction(engine, write=False) as session:
        return session.exec(select(Agency).where(Agency.key == "byoin")).first() is not None


def test_a_window_channel_shared_with_another_organisation_is_warned_of(
    engine, connect_slack, tmp_path, monkeypatch, capsys, db_url, encryption_key
):
    connect_slack.add_channel("C0HOUKATSU", shared_with=[PARTNER_TEAM])
    code, out = org_load(
        tmp_path,
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        token=connect_slack.token,
        api_url=connect_slack.base_url,
    )
    assert code == 0 and loaded(engine)  # a warning: the load stands
    [warning] = [line for line in out.splitlines() if SHARED in line]
    assert "C0HOUKATSU" in warning
    asked = {c.args.get("channel") for c in connect_slack.calls_to("conversations.info")}
    assert {"C0COORD", "C0HOUKATSU"} <= asked


def test_no_warning_when_no_case_channel_is_shared(
    engine, connect_slack, tmp_path, monkeypatch, capsys, db_url, encryption_key
):
    code, out = org_load(
        tmp_path,
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        token=connect_slack.token,
        api_url=connect_slack.base_url,
    )
    assert code == 0 and loaded(engine)
    assert SHARED not in out and "他の組織の方" not in out, out
    assert connect_slack.calls_to("conversations.info")  # it did ask


def test_without_a_bot_token_slack_is_not_asked(
    engine, connect_slack, tmp_path, monkeypatch, capsys, db_url, encryption_key
):
    connect_slack.add_channel("C0HOUKATSU", shared_with=[PARTNER_TEAM])
    code, out = org_load(
        tmp_path,
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        token=None,
        api_url=connect_slack.base_url,
    )
    assert code == 0 and loaded(engine)
    assert connect_slack.calls == [] and SHARED not in out


def test_slack_out_of_reach_is_one_line_and_the_load_is_done(
    engine, tmp_path, monkeypatch, capsys, db_url, encryption_key
):
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = org_load(
        tmp_path,
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        token="xoxb-test",
        api_url=f"http://127.0.0.1:{port}/api/",
    )
    assert code == 0 and loaded(engine)
    assert "読み込" in out
    unreachable = [line for line in out.splitlines() if "Slackにつながらなかった" in line]
    assert len(unreachable) == 1, out
    assert "Traceback" not in out and SHARED not in out
