"""The `tsunagi` command: manifest, run without settings, keys, db upgrade."""

import subprocess
import sys

import yaml
from cryptography.fernet import Fernet

from bot.cli.main import main


def test_manifest_is_yaml_with_command_shortcuts_home_and_socket_mode(capsys):
    assert main(["manifest"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["features"]["slash_commands"][0]["command"] == "/tsunagi"
    shortcuts = {s["name"]: s for s in data["features"]["shortcuts"]}
    assert shortcuts["つなぎメモを書く"]["type"] == "global"
    assert shortcuts["つなぎメモにする"]["type"] == "message"
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]
    assert data["settings"]["socket_mode_enabled"] is True
    assert {"commands", "chat:write"} <= set(data["oauth_config"]["scopes"]["bot"])


def test_manifest_for_http_fills_request_urls(capsys):
    assert main(["manifest", "--http-url", "https://tsunagi.example.jp/"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    url = "https://tsunagi.example.jp/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["interactivity"]["request_url"] == url
    assert data["features"]["slash_commands"][0]["url"] == url


def test_run_without_tokens_says_what_to_set(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run", "--http"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TSUNAGI_ENCRYPTION_KEY"):
        assert name in result.stderr
    assert "tsunagi manifest" in result.stderr


def test_socket_mode_needs_the_app_token(monkeypatch, capsys):
    for name in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert main(["run"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_keys_generate_prints_a_fernet_key(capsys):
    assert main(["keys", "generate"]) == 0
    Fernet(capsys.readouterr().out.strip().encode())


def test_run_refuses_a_database_that_is_not_upgraded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert main(["run", "--http"]) == 2
    assert "tsunagi db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0  # idempotent


def test_run_refuses_a_wrong_key(tmp_path, monkeypatch, capsys, encryption_key):
    from bot import runtime
    from bot.settings import Settings

    url = f"sqlite:///{tmp_path}/k.db"
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    runtime.prepare_database(Settings(database_url=url, encryption_keys=[encryption_key]))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert main(["run", "--http"]) == 2
    assert "暗号鍵" in capsys.readouterr().err
