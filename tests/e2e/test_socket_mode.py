"""Socket Mode end to end: the real bot (bot/socket_mode.py) connected to the stand-in's
WebSocket server, envelopes in, acknowledgements and Web API calls out."""

from __future__ import annotations

import json
import os
import signal
import socket as socketlib
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, func, select

from bot import runtime
from bot.cli.main import main
from bot.settings import Settings, read
from bot.socket_mode import start_socket_mode
from handlers.common import timely
from models.cases.tables import Case, Referral
from models.queues.tables import Notice
from sandbox.standin.socket_mode import SocketModeStandin
from tests.conftest import SIGNING_SECRET, TEST_KEY, delivered_answers, memo_values, settle
from tests.e2e.test_timely import WORKING, slow_validation


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


class SocketBot:
    def __init__(self, rt, slack, socket, mode):
        self.rt, self.slack, self.socket, self.mode = rt, slack, socket, mode

    def answers(self, user: str, before: int = 0) -> list[dict]:
        return delivered_answers(self.rt, self.slack, user, before)

    def open_memo(self, user: str) -> dict:
        before = len(self.slack.views_opened())
        self.socket.command(user, "", trigger_id=self.slack.issue_trigger_id())
        self.slack.wait_for(lambda: len(self.slack.views_opened()) > before)
        return self.slack.views_opened()[-1]

    def health(self) -> tuple[int, dict]:
        url = f"http://127.0.0.1:{self.mode.health_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


@pytest.fixture
def socket(slack):
    server = SocketModeStandin(slack, redeliver_after=1.0).start()
    yield server
    server.stop()


@pytest.fixture
def sbot(db_url, org, slack, socket, clock):
    settings = Settings(
        bot_token=slack.token,
        signing_secret=SIGNING_SECRET,
        app_token=socket.app_token,
        slack_api_url=slack.base_url,
        database_url=db_url,
        encryption_keys=[TEST_KEY],
        channel_interval=0.0,
    )
    rt = runtime.build(settings, clock=clock)
    mode = start_socket_mode(rt, settings.app_token, ping_interval=1.0, health_port=0)
    socket.wait_connected()
    yield SocketBot(rt, slack, socket, mode)
    mode.close()
    settle(rt.app)
    rt.engine.dispose()


def memo_card(slack, channel: str) -> dict:
    [message] = [m for m in slack.messages(channel) if "actions" in json.dumps(m["blocks"])]
    return message


# --- apps.connections.open --------------------------------------------------------------------


def test_connections_open_wants_an_app_level_token(slack, socket):
    ok = WebClient(token=socket.app_token, base_url=slack.base_url).apps_connections_open(
        app_token=socket.app_token
    )
    assert ok["url"].startswith("ws://127.0.0.1:")
    for token, error in [(slack.token, "not_allowed_token_type"), ("xapp-wrong", "invalid_auth")]:
        with pytest.raises(SlackApiError) as err:
            WebClient(base_url=slack.base_url).apps_connections_open(app_token=token)
        assert err.value.response["error"] == error


def test_hello_is_sent_and_the_connection_is_counted(sbot):
    assert sbot.socket.connects == 1 and len(sbot.socket.connections()) == 1
    status, body = sbot.slack.wait_for(lambda: (h := sbot.health())[0] == 200 and h)
    assert status == 200 and body["socket"] == "connected" and body["database"] == "ok"
    assert body["since"] and body["last_message_age_s"] is not None
    sbot.slack.wait_for(lambda: sbot.health()[1]["last_pong_age_s"] is not None)  # pings answered


# --- the memo --------------------------------------------------------------------------------


def test_slash_command_opens_the_memo_form(sbot):
    view = sbot.open_memo("U0PARTNER1")
    assert view["callback_id"] == "memo_submit"


def test_shortcut_opens_the_form_with_the_envelopes_trigger(sbot):
    trigger = sbot.slack.issue_trigger_id()
    sbot.socket.shortcut("U0WIN1", trigger_id=trigger)
    view = sbot.slack.wait_for(lambda: sbot.slack.views_opened())[-1]
    assert view["callback_id"] == "memo_submit"
    [call] = sbot.slack.calls_to("views.open")
    assert call.args["trigger_id"] == trigger and call.ok


def test_submission_with_errors_is_answered_in_the_ack_and_stores_nothing(sbot):
    view = sbot.open_memo("U0PARTNER1")
    answer = sbot.socket.submit("U0PARTNER1", view, memo_values(narrative="   "))
    assert answer["response_action"] == "errors" and answer["errors"]["narrative"]
    assert count(sbot.rt.engine, Referral) == 0 and count(sbot.rt.engine, Notice) == 0


def test_valid_submission_stores_the_memo_posts_the_card_and_a_click_takes_it(sbot):
    view = sbot.open_memo("U0PARTNER1")
    answer = sbot.socket.submit("U0PARTNER1", view, memo_values())
    assert answer.get("response_action") != "errors"
    assert count(sbot.rt.engine, Case) == 1
    sbot.rt.delivery.run_once()
    message = memo_card(sbot.slack, "C0HOUKATSU")
    sbot.socket.click("U0WIN1", message, "case_acknowledge", trigger_id="t-sock")
    eph = sbot.answers("U0WIN1")
    assert "引き受けました" in eph[-1]["text"]
    with Session(sbot.rt.engine) as s:
        [case] = s.exec(select(Case)).all()
        assert case.state == "window" and case.acknowledged_at is not None


# --- events --------------------------------------------------------------------------------


def home_event(user: str) -> dict:
    return {"type": "app_home_opened", "user": user, "tab": "home", "channel": f"D{user}"}


def test_app_home_opened_publishes_the_home(sbot):
    sbot.socket.event(home_event("U0WIN1"), event_id="EvSock1")
    sbot.slack.wait_for(lambda: sbot.slack.home_views("U0WIN1"))


def test_a_retried_event_is_handled_once(sbot):
    sbot.socket.event(home_event("U0WIN1"), event_id="EvSock2")
    sbot.slack.wait_for(lambda: sbot.slack.home_views("U0WIN1"))
    sbot.socket.event(home_event("U0WIN1"), event_id="EvSock2")  # same event_id again
    sbot.socket.event(home_event("U0COORD"), event_id="EvSock3")  # a marker after it
    sbot.slack.wait_for(lambda: sbot.slack.home_views("U0COORD"))
    published = [c for c in sbot.slack.calls_to("views.publish") if c.args["user_id"] == "U0WIN1"]
    assert len(published) == 1


def test_an_unacknowledged_envelope_is_redelivered_and_handled_once(sbot):
    sbot.socket.drop_next_acks(1)
    envelope = sbot.socket.event(home_event("U0WIN1"), event_id="EvSock4")
    assert len(envelope.attempts) == 2  # delivered again after the first ack was lost
    sbot.socket.event(home_event("U0COORD"), event_id="EvSock5")
    sbot.slack.wait_for(lambda: sbot.slack.home_views("U0COORD"))
    published = [c for c in sbot.slack.calls_to("views.publish") if c.args["user_id"] == "U0WIN1"]
    assert len(published) == 1


# --- the connection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    ["close", "reset", "refresh_requested", "link_disabled", "warning"],
)
def test_the_bot_reconnects_and_the_next_command_works(sbot, fault):
    started = time.monotonic()
    if fault == "close":
        sbot.socket.close()
    elif fault == "reset":
        sbot.socket.reset()
    else:
        sbot.socket.disconnect(fault)
    sbot.socket.wait_connected(connects=2)
    # promptly: Bolt's own client would notice only at its next ping (about 9 s in all)
    assert time.monotonic() - started < 2.0
    view = sbot.open_memo("U0PARTNER1")
    assert view["callback_id"] == "memo_submit"
    _, body = sbot.slack.wait_for(lambda: (h := sbot.health())[0] == 200 and h)
    assert body["socket"] == "connected"


def test_health_says_disconnected_while_the_socket_is_down(db_url, org, slack, socket, clock):
    settings = Settings(
        bot_token=slack.token,
        app_token=socket.app_token,
        slack_api_url=slack.base_url,
        database_url=db_url,
        encryption_keys=[TEST_KEY],
    )
    rt = runtime.build(settings, clock=clock)
    mode = start_socket_mode(rt, settings.app_token, health_port=0)
    try:
        socket.wait_connected()
        bot = SocketBot(rt, slack, socket, mode)
        mode.handler.client.auto_reconnect_enabled = False  # stays down after the close
        socket.close()
        slack.wait_for(lambda: bot.health()[0] == 503)
        _, body = bot.health()
        assert body["status"] == "unavailable" and body["socket"] == "disconnected"
        assert body["since"]
    finally:
        mode.close()
        settle(rt.app)
        rt.engine.dispose()


def socket_alerts(engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(Notice).where(Notice.kind.in_(["socket_down", "socket_back"])))
        return sorted((n.kind, n.target) for n in rows)


def test_the_admins_hear_once_when_the_socket_stays_down_and_once_when_it_is_back(
    db_url, org, slack, socket, clock
):
    settings = Settings(
        bot_token=slack.token,
        app_token=socket.app_token,
        slack_api_url=slack.base_url,
        database_url=db_url,
        encryption_keys=[TEST_KEY],
        channel_interval=0.0,
    )
    rt = runtime.build(settings, clock=clock)
    mode = start_socket_mode(rt, settings.app_token, alert_after=1.0)
    client = mode.handler.client
    try:
        socket.wait_connected()
        time.sleep(1.5)
        assert socket_alerts(rt.engine) == []  # connected: nothing to say
        client.auto_reconnect_enabled = False  # stays down after the close
        socket.close()
        slack.wait_for(lambda: socket_alerts(rt.engine))
        time.sleep(1.5)  # still down, many more looks at it: no second message
        assert socket_alerts(rt.engine) == [("socket_down", "U0ADMIN1")]
        rt.delivery.run_once()
        [down] = slack.messages("DU0ADMIN1")
        assert "Socket Mode" in down["text"] and "切れたまま" in json.dumps(
            down["blocks"], ensure_ascii=False
        )
        client.auto_reconnect_enabled = True
        socket.wait_connected(connects=2)
        slack.wait_for(lambda: len(socket_alerts(rt.engine)) == 2)
        rt.delivery.run_once()
        assert [m["text"] for m in slack.messages("DU0ADMIN1")][
            1
        ] == "tsunagiとSlackの接続が戻りました"
        assert socket_alerts(rt.engine) == [
            ("socket_back", "U0ADMIN1"),
            ("socket_down", "U0ADMIN1"),
        ]
    finally:
        mode.close()
        settle(rt.app)
        rt.engine.dispose()


def test_no_message_while_the_web_api_does_not_answer_either(db_url, org, slack, socket, clock):
    settings = Settings(
        bot_token=slack.token,
        app_token=socket.app_token,
        slack_api_url=slack.base_url,
        database_url=db_url,
        encryption_keys=[TEST_KEY],
    )
    rt = runtime.build(settings, clock=clock)
    mode = start_socket_mode(rt, settings.app_token, alert_after=0.5)
    try:
        socket.wait_connected()
        mode.handler.client.auto_reconnect_enabled = False
        slack.fail_next("auth.test", status=500, times=100)
        before = len(slack.calls_to("auth.test"))
        socket.close()
        slack.wait_for(lambda: len(slack.calls_to("auth.test")) > before, timeout=10)
        time.sleep(1.0)
        assert socket_alerts(rt.engine) == []  # the DM could not arrive: the log says it
    finally:
        mode.close()
        settle(rt.app)
        rt.engine.dispose()


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_health_port_is_refused(value):
    _, [problem] = read({"TSUNAGI_HEALTH_PORT": value})
    assert (problem.name, problem.code) == ("TSUNAGI_HEALTH_PORT", "not_port")


def test_no_health_port_means_no_health_server():
    assert read({"TSUNAGI_HEALTH_PORT": ""})[0].health_port is None
    assert read({})[0].health_port is None


# --- `tsunagi run` in Socket Mode ---------------------------------------------------------------


def test_a_bad_health_port_stops_the_run_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-x")
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("TSUNAGI_HEALTH_PORT", "abc")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "TSUNAGI_HEALTH_PORT" in err and "abc" in err and "Traceback" not in err


def free_port() -> int:
    with socketlib.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tsunagi_run_serves_socket_mode_stores_memos_and_health(
    db_url, org, slack, socket, tmp_path
):
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_APP_TOKEN": socket.app_token,
        "SLACK_API_URL": slack.base_url,
        "TSUNAGI_DATABASE_URL": db_url,
        "TSUNAGI_ENCRYPTION_KEY": TEST_KEY,
        "TSUNAGI_HEALTH_PORT": str(port),
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    log = (tmp_path / "run.log").open("w")  # a file, not a pipe nobody reads while it runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run"], env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    try:
        socket.wait_connected(timeout=30)
        trigger = slack.issue_trigger_id()
        socket.command("U0PARTNER1", "", trigger_id=trigger)
        view = slack.wait_for(lambda: slack.views_opened())[-1]
        assert view["callback_id"] == "memo_submit"
        # Sent once the memo store is up, so the store process stores it (bot/processes/).
        slack.wait_for(lambda: "memo store ready" in (tmp_path / "run.log").read_text())
        answer = socket.submit("U0PARTNER1", view, memo_values())
        assert "R8-0001" in json.dumps(answer["view"]["blocks"], ensure_ascii=False)
        assert count(org, Case) == 1
        url = f"http://127.0.0.1:{port}/healthz"
        body = slack.wait_for(lambda: json.loads(urllib.request.urlopen(url, timeout=5).read()))
        assert body["socket"] == "connected" and body["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0, (tmp_path / "run.log").read_text()


def test_a_submission_whose_work_outlasts_the_wait_is_answered_in_time(sbot, monkeypatch):
    """The interim screen goes back in the envelope's acknowledgement; the receipt follows by
    views.update (handlers/common/timely.py), as over HTTP."""
    monkeypatch.setattr(timely, "ANSWER_WITHIN", 0.1)
    monkeypatch.setattr(timely, "SETTLE", 0.0)
    view = sbot.open_memo("U0PARTNER1")
    slow_validation(monkeypatch)
    answer = sbot.socket.submit("U0PARTNER1", view, memo_values())
    assert answer["response_action"] == "update"
    assert WORKING in json.dumps(answer["view"]["blocks"], ensure_ascii=False)
    [call] = sbot.slack.wait_for(lambda: sbot.slack.calls_to("views.update"))
    assert call.ok and call.args["view_id"] == view["id"]
    [shown] = [v for v in sbot.slack.views_opened() if v["id"] == view["id"]]
    assert "R8-0001" in json.dumps(shown["blocks"], ensure_ascii=False)
    assert count(sbot.rt.engine, Case) == 1
