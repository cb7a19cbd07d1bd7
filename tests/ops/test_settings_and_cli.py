"""Strict settings and a CLI in Japanese: every environment variable checked at start (one line
each: the variable, what is wrong, an example; exit 2, no traceback, nothing done), tokens Slack
refuses named with Slack's answer, `tsunagi --version`, every help text in Japanese."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import build_parser, main
from bot.settings import NAMES, read
from handlers.common.texts import has
from models.ops import migrate
from sandbox.standin.socket_mode import SocketModeStandin
from tests.conftest import TEST_KEY

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def run_cli(args: list[str], env: dict, cwd) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=cwd,
        timeout=120,
    )


# (variable, value, words of its line)
BAD = [
    ("TSUNAGI_CHANNEL_INTERVAL", "abc", "「abc」は数ではありません"),
    ("TSUNAGI_CHANNEL_INTERVAL", "-1", "範囲の外"),
    ("TSUNAGI_DATABASE_URL", "tsunagi.db", "ファイル名だけでは使えません"),
    ("TSUNAGI_DATABASE_URL", "mysql://h/db", "SQLiteかPostgreSQL"),
    ("TSUNAGI_ENCRYPTION_KEY", "not-a-key", "Fernet形式"),
    ("TSUNAGI_OLD_ENCRYPTION_KEYS", "old,older", "Fernet形式"),
    ("SLACK_BOT_TOKEN", "xapp-1-A0-secret", "xoxb-で始まるトークンではありません（xapp-で始まる"),
    ("SLACK_APP_TOKEN", "xoxb-secret", "xapp-で始まるトークンではありません"),
    ("SLACK_BOT_TOKEN", '"xoxb-quoted"', "引用符"),
    ("SLACK_API_URL", "slack.com/api", "http://かhttps://"),
    ("TSUNAGI_HEALTH_PORT", "80a", "ポート番号"),
    ("TSUNAGI_LEASE_SECONDS", "0", "0.2〜3600"),
    ("TSUNAGI_SOCKET_ALERT_SECONDS", "soon", "数ではありません"),
    ("TSUNAGI_ORG_FILE", "/no/such/tatsuno.toml", "見つかりません"),
]


@pytest.mark.parametrize(("name", "value", "words"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_malformed_variable_stops_the_command_in_one_line(tmp_path, name, value, words):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-fine",
        "SLACK_APP_TOKEN": "xapp-fine",
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "TSUNAGI_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        name: value,
    }
    for args in (["run"], ["db", "upgrade"]):
        result = run_cli(args, env, tmp_path)
        assert result.returncode == 2, result.stderr
        [line] = [x for x in result.stderr.splitlines() if x.startswith(name + "：")]
        assert words in line and "例：" + name + "=" in line
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database was made


def test_secrets_are_not_repeated_back():
    _, problems = read({"SLACK_BOT_TOKEN": "xapp-1-A0-very-secret", "TSUNAGI_ENCRYPTION_KEY": "x"})
    for problem in problems:
        assert "very-secret" not in str(problem.params)


def test_every_variable_has_an_example_line():
    assert all(has(f"settings.example.{name}") for name in NAMES)


def test_check_lists_a_malformed_variable_among_its_findings(tmp_path):
    env = {"TSUNAGI_DATABASE_URL": "tsunagi.db", "TSUNAGI_ENCRYPTION_KEY": TEST_KEY}
    result = run_cli(["check"], env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[設定] TSUNAGI_DATABASE_URL：" in result.stdout
    assert not (tmp_path / "tsunagi.db").exists()  # the default was not opened in its place


EXAMPLE_ORG = str(Path(__file__).resolve().parents[2] / "tatsuno.example.toml")


@pytest.mark.parametrize(
    "args", [["check"], ["audit", "verify"], ["org", "load", EXAMPLE_ORG], ["run", "--http"]]
)
def test_a_database_file_that_is_not_there_is_named_and_not_made(tmp_path, args):
    """A mistyped path or a first start without `tsunagi db upgrade`: said in words, and no
    empty database is left behind (a later `run` would otherwise find an empty schema)."""
    env = {
        "TSUNAGI_DATABASE_URL": f"sqlite:///{tmp_path}/typo.db",
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "SLACK_BOT_TOKEN": "xoxb-fine",
        "SLACK_SIGNING_SECRET": "fine",
    }
    result = run_cli(args, env, tmp_path)
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr
    said = result.stdout + result.stderr
    assert "`tsunagi db upgrade`" in said  # what to do, whichever command was asked
    assert not (tmp_path / "typo.db").exists()
    made = run_cli(["db", "upgrade"], env, tmp_path)  # the one command that makes it
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "typo.db").exists()


def test_commands_that_need_no_settings_still_work(monkeypatch, capsys):
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", "broken")  # while making a new one
    assert main(["keys", "generate"]) == 0
    assert len(capsys.readouterr().out.strip()) == 44


# --------------------------------------------------------------------------- refused tokens


@pytest.fixture
def socket(slack):
    server = SocketModeStandin(slack).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("bot", "app", "variable", "error"),
    [
        ("xoxb-wrong", None, "SLACK_BOT_TOKEN", "invalid_auth"),
        (None, "xapp-wrong", "SLACK_APP_TOKEN", "invalid_auth"),
        (None, "xapp-1-but-a-bot-token", "SLACK_APP_TOKEN", "not_allowed_token_type"),
    ],
)
def test_a_token_slack_refuses_stops_run_naming_it(
    db_url, org, slack, socket, monkeypatch, capsys, bot, app, variable, error
):
    if app == "xapp-1-but-a-bot-token":  # the stand-in answers as Slack does for a bot token
        slack.token_methods["apps.connections.open"] = lambda token, args: socket._connections_open(
            slack.token, args
        )
    monkeypatch.setenv("SLACK_BOT_TOKEN", bot or slack.token)
    monkeypatch.setenv("SLACK_APP_TOKEN", app or socket.app_token)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert f"Slackが{variable}を受け付けませんでした（Slackの答え：{error}）" in err
    assert "Traceback" not in err
    assert socket.connects == 0  # nothing started


# --------------------------------------------------------------------------- the CLI itself


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert re.match(r"^tsunagi \d+\.\d+\.\d+（データベースのスキーマ：\d{4}）$", out.strip())


def _parsers(parser: argparse.ArgumentParser, path=("tsunagi",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_every_help_text_is_in_japanese():
    english = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            helps = (
                [a.help for a in action._choices_actions]
                if isinstance(action, argparse._SubParsersAction)
                else [action.help]
            )
            for text in helps:
                if text != argparse.SUPPRESS and not (text and JAPANESE.search(text)):
                    english.append(f"{' '.join(path)} {action.option_strings or action.dest}")
        shown = parser.format_help()
        for word in ("usage:", "options:", "positional arguments", "show this help"):
            if word in shown:
                english.append(f"{' '.join(path)}: {word}")
    assert english == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nope"], "'nope'は選べません"),
        (["org", "load"], "次の引数を指定してください：file"),
        (["run", "--port", "x"], "'x'は正しい値ではありません"),
        (["check", "--loud"], "知らない引数です：--loud"),
    ],
)
def test_mistakes_on_the_command_line_are_told_in_japanese(capsys, args, words):
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert words in err and err.startswith("使い方：") and "error:" not in err


def test_the_readme_shows_the_schema_version_this_code_has():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    head = migrate.head_revision("sqlite://")
    assert f"[OK] スキーマは最新です（{head}）。" in readme
    assert "設定すると Socket Mode で起動" not in readme  # `tsunagi run` vs `run --http` decides
