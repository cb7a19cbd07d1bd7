"""Monitoring: `GET /healthz` in HTTP mode, and `tsunagi check` against the Slack stand-in."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from bot import health
from bot.cli.main import main
from bot.processes.memo_store import MemoStoreProcess
from bot.server import make_server
from bot.settings import Settings
from models.base.db import make_engine, transaction
from models.ops.keys import check_key
from models.org.orgfile import load, parse
from models.org.tables import Agency, Member
from sandbox.standin.socket_mode import SocketModeStandin
from tests.conftest import ORG_FILE, START, Running
from tests.support.ops import make_case

# Who of the test organisation works where (tests/data/org.toml), to fill the channels.
STAFF = {
    "C0COORD": ["U0COORD"],
    "C0HOUKATSU": ["U0WIN1"],
    "C0KODOMO": ["U0KODOMO1"],
    "C0FUKUSHI": ["U0FUKUSHI1"],
    "C0LINKNET": [],
    "C0ADMIN": ["U0ADMIN1"],
}


def serve(app, check):
    server = make_server(app, host="127.0.0.1", port=0, threads=2, health=check)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # stopped from its own loop (bot.server.shutdown): closed from here, the loop could still
    # be selecting on the closed socket
    return Running(server, thread), f"http://127.0.0.1:{server.effective_port}/healthz"


def test_healthz_answers_200_when_the_database_answers(bot):
    server, url = serve(bot.rt.app, health.probe(bot.rt.engine, scheduler=bot.rt.scheduler))
    try:
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "database": "ok", "scheduler": "stopped"}
        assert answer.headers["Cache-Control"] == "no-store"
        assert requests.head(url, timeout=10).status_code == 200
    finally:
        server.close()


def test_healthz_says_whether_the_memo_store_takes_memos(bot):
    """Not started (or starting again), the store is reported stopped; the server stores memos
    itself meanwhile, so the probe stays 200."""
    check = health.probe(bot.rt.engine, memo_store=MemoStoreProcess())
    server, url = serve(bot.rt.app, check)
    try:
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "database": "ok", "memo_store": "stopped"}
    finally:
        server.close()


def test_healthz_answers_503_when_the_database_does_not(bot, tmp_path):
    gone = make_engine(f"sqlite:///{tmp_path}/no/such/folder/tsunagi.db")
    server, url = serve(bot.rt.app, health.probe(gone))
    try:
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {"status": "unavailable", "database": "unreachable"}
    finally:
        server.close()
        gone.dispose()


def test_healthz_without_a_check_still_says_the_process_is_up(bot):
    server, url = serve(bot.rt.app, None)
    try:
        assert requests.get(url, timeout=10).json() == {"status": "ok"}
    finally:
        server.close()


# --------------------------------------------------------------------------- tsunagi check


@pytest.fixture
def ready(org, slack, encryption_key):
    """A database the bot has started on once, and a workspace where all is in order."""
    with transaction(org) as session:
        check_key(session)
    for channel, members in STAFF.items():
        slack.add_channel(channel, members=members)
    return org


def check(monkeypatch, capsys, db_url, slack, key, *extra, token=None) -> tuple[int, str]:
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", key)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", token or slack.token)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    code = main(["check", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_all_in_order(ready, db_url, slack, encryption_key, monkeypatch, capsys):
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 0, out
    assert "結果：問題はありません" in out
    for expected in ("スキーマは最新です（0", "保存された個人情報を開けます"):
        assert expected in out
    assert "SLACK_BOT_TOKENは有効です（auth.test" in out
    for channel in STAFF:
        assert f"[OK] {channel}（" in out
    assert "[NG]" not in out
    # each section once, in order, under its heading
    headings = [line for line in out.splitlines() if line.startswith("■ ")]
    assert headings == [
        "■ データベース",
        "■ 暗号鍵",
        "■ 組織ファイル",
        "■ 配信",
        "■ Slack",
        "■ チャンネル",
    ]
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key, "--quiet")
    assert code == 0 and "[OK]" not in out


def test_a_channel_the_bot_is_not_in(ready, db_url, slack, encryption_key, monkeypatch, capsys):
    slack.add_channel("C0KODOMO", member=False)
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 1
    line = next(line for line in out.splitlines() if "C0KODOMO" in line)
    assert (
        line.strip().startswith("[NG]")
        and "こども家庭センター" in line
        and "/invite @tsunagi" in line
    )
    assert "問題が1件" in out


def test_a_private_channel_the_bot_cannot_see(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    slack.add_channel("C0COORD", member=False, is_private=True)
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 1
    assert "[NG] C0COORD（重層推進室）：見つかりません" in out


def test_an_archived_channel(ready, db_url, slack, encryption_key, monkeypatch, capsys):
    slack.add_channel("C0FUKUSHI", is_archived=True)
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 1 and "C0FUKUSHI（社会福祉係）：アーカイブ" in out


def test_a_channel_id_that_does_not_exist(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    text = ORG_FILE.read_text(encoding="utf-8").replace('"C0HOUKATSU"', '"C0NOWHERE"')
    with transaction(ready) as session:
        load(session, parse(text))
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 1 and "[NG] C0NOWHERE（高齢者相談支援センター）" in out


def test_staff_missing_from_their_channel_is_a_note(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    slack.add_channel("C0HOUKATSU", members=[])
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 0
    assert "[注意] C0HOUKATSU（高齢者相談支援センター）" in out and "U0WIN1" in out


def test_an_invalid_token(ready, db_url, slack, encryption_key, monkeypatch, capsys):
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key, token="xoxb-wrong")
    assert code == 1 and "invalid_auth" in out and "SLACK_BOT_TOKEN" in out


def test_a_wrong_key(ready, db_url, slack, monkeypatch, capsys):
    code, out = check(monkeypatch, capsys, db_url, slack, Fernet.generate_key().decode())
    assert code == 1 and "■ 暗号鍵\n  [NG] 設定された鍵では" in out


def test_old_keys_left_configured_are_pointed_out(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    monkeypatch.setenv("TSUNAGI_OLD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", encryption_key)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    assert main(["check"]) == 0
    assert "古い鍵はもう使われていません" in capsys.readouterr().out


def test_an_old_schema(slack, encryption_key, monkeypatch, capsys, tmp_path):
    url = f"sqlite:///{tmp_path}/empty.db"
    code, out = check(monkeypatch, capsys, url, slack, encryption_key)
    assert code == 1 and "tsunagi db upgrade" in out


def test_a_database_file_that_is_not_there(slack, encryption_key, monkeypatch, capsys, tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/folder/x.db"
    code, out = check(monkeypatch, capsys, url, slack, encryption_key)
    missing = f"[NG] データベースのファイル {tmp_path}/no/such/folder/x.db がありません"
    assert code == 1 and "■ データベース\n  " + missing in out
    assert not (tmp_path / "no").exists()  # the check made nothing
    assert "SLACK_BOT_TOKENは有効です" in out  # the rest is still checked


def test_missing_or_malformed_settings_are_exit_code_2(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", encryption_key)
    assert main(["check"]) == 2
    assert "SLACK_BOT_TOKENが設定されていません" in capsys.readouterr().out
    code, out = check(monkeypatch, capsys, db_url, slack, "not-a-key")
    assert code == 2 and "Fernet" in out


def test_notices_that_do_not_go_out_are_a_problem(ready, db_url, encryption_key):
    make_case(ready, at=START)  # queues its notices
    settings = Settings(database_url=db_url, encryption_keys=[encryption_key])
    fresh = health.run_checks(settings, now=START + timedelta(minutes=1))
    assert "outbox_ok" in [f.code for f in fresh.findings]
    late = health.run_checks(settings, now=START + timedelta(hours=1))
    (stuck,) = [f for f in late.findings if f.code == "outbox_stuck"]
    assert stuck.level is health.Level.problem and stuck.params["count"] >= 1


def test_the_org_file_section_says_which_file_when_how_many_and_who_lacks_the_ack(
    ready, db_url, slack, encryption_key, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert "どのファイルからかの記録はありません" in out  # loaded by the fixture, not the CLI
    org_file = tmp_path / "町の組織.toml"
    org_file.write_text(ORG_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["org", "load", str(org_file)]) == 0
    capsys.readouterr()
    code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    section = out.split("■ 組織ファイル\n")[1].split("■")[0]
    assert f"[OK] {org_file}を20" in section and "に読み込みました。" in section
    with Session(ready) as s:
        members = s.exec(select(Member).where(Member.active)).all()
        agencies = s.exec(select(Agency).where(Agency.active)).all()
    assert f"機関{len(agencies)}件、メンバー{len(members)}人が有効です。" in section
    lacking = sorted(m.slack_id for m in members if m.confidentiality_ack is None)
    assert lacking and f"がないメンバーが{len(lacking)}人います（{'、'.join(lacking)}）" in section
    assert code == 0


def test_the_app_level_token_is_tried_with_apps_connections_open(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    socket = SocketModeStandin(slack).start()
    try:
        monkeypatch.setenv("SLACK_APP_TOKEN", socket.app_token)
        code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
        assert code == 0 and "[OK] SLACK_APP_TOKENは有効です（apps.connections.open" in out
        monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-wrong")
        code, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
        assert code == 1
        [line] = [x for x in out.splitlines() if "SLACK_APP_TOKEN" in x]
        assert line.strip().startswith("[NG]") and "invalid_auth" in line
        assert socket.connects == 0  # asked for a URL, never connected
    finally:
        socket.stop()


def test_without_an_app_level_token_check_says_it_did_not_try(
    ready, db_url, slack, encryption_key, monkeypatch, capsys
):
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    _, out = check(monkeypatch, capsys, db_url, slack, encryption_key)
    assert "SLACK_APP_TOKENが設定されていないので" in out
