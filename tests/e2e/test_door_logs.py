"""Nothing personal in any log line (issue 14, point 4): memo bodies carrying probe strings are
sent with a bad signature, a stale timestamp, a malformed shape and to a crashing handler; every
logger is captured at DEBUG, by pytest and through the bot's own logging set-up."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import urllib.parse

import pytest
from sqlmodel import Session, func, select

from bot import logging_safety
from models.cases import memo as intake
from models.cases.tables import Case
from sandbox.standin.signed import TEAM, state_for
from tests.conftest import make_bot, memo_values

NAME = "辰野試験子"
PHONE = "0266-00-0000"
NARRATIVE = "試験用の相談内容です。買い物に困っている様子。"
PROBES = [NAME, PHONE, NARRATIVE[:10], "辰野", "0266"]
LIBRARIES = ("slack_bolt", "slack_sdk", "waitress", "urllib3", "tsunagi")


def _encoded(probe: str) -> list[str]:
    return [
        probe,
        urllib.parse.quote(probe),
        urllib.parse.quote_plus(probe),
        json.dumps(probe)[1:-1],  # \\uXXXX escapes
    ]


@pytest.fixture
def every_log(caplog):
    """caplog at the root plus a handler formatted as `tsunagi run` formats, all at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in LIBRARIES:
        caplog.set_level(logging.DEBUG, logger=name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging_safety.install()
    logging.getLogger().addHandler(handler)
    try:
        yield lambda: caplog.text + "\n" + stream.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)


def assert_no_probe(text: str) -> None:
    for probe in PROBES:
        for form in _encoded(probe):
            assert form not in text, f"{form!r} appears in the log"


def _memo_body(bot) -> str:
    view = bot.open_memo("U0PARTNER1")
    values = memo_values(person_name=NAME, contact=PHONE, narrative=NARRATIVE)
    payload = {
        "type": "view_submission",
        "team": TEAM,
        "user": {"id": "U0PARTNER1", "team_id": TEAM["id"]},
        "view": {**view, "state": {"values": state_for(view, values)}},
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload, ensure_ascii=False)})


FORM = "application/x-www-form-urlencoded"


def test_a_memo_with_a_bad_signature_logs_reason_age_and_length_only(bot, every_log):
    body = _memo_body(bot)
    answer = bot.signed.post(body, FORM, headers={"X-Slack-Signature": "v0=" + "f" * 64})
    assert answer.status == 401
    log = every_log()
    assert "refused a request: bad signature (timestamp age " in log
    assert f" s, {len(body.encode())} bytes)" in log
    assert_no_probe(log)


def test_a_memo_with_a_stale_timestamp_is_refused_without_its_body(bot, every_log):
    body = _memo_body(bot)
    answer = bot.signed.post(body, FORM, ts=int(time.time()) - 600)
    assert answer.status == 401
    log = every_log()
    assert "refused a request: stale timestamp (age 6" in log
    assert_no_probe(log)


def test_a_malformed_memo_is_refused_without_its_body(bot, every_log):
    body = _memo_body(bot).replace("U0PARTNER1", "")  # a submission whose user has no id
    answer = bot.signed.post(body, FORM)
    assert answer.status == 400
    log = every_log()
    assert "refused a request: view_submission without user" in log
    assert_no_probe(log)


def test_a_crashing_handler_logs_frames_and_a_code_but_no_probe(bot, every_log, monkeypatch):
    def crash(session, memo):
        raise RuntimeError(f"could not check {memo.person_name} {memo.contact} {NARRATIVE}")

    monkeypatch.setattr(intake, "validate", crash)
    body = _memo_body(bot)
    answer = bot.signed.post(body, FORM)
    assert answer.status == 200
    code = answer.json()["errors"]
    log = every_log()
    assert "listener failed [E-" in log and "RuntimeError" in log and "Traceback" in log
    assert any(c in log for c in _codes(code))
    assert_no_probe(log)
    assert intake_count(bot) == 0


def test_a_successful_memo_at_debug_logs_no_probe(bot, every_log):
    bot.send_memo("U0PARTNER1", person_name=NAME, contact=PHONE, narrative=NARRATIVE)
    bot.deliver()
    assert_no_probe(every_log())


def test_library_lines_with_bodies_are_withheld_at_creation():
    logging_safety.install()
    record = logging.getLogger("slack_bolt.App").makeRecord(
        "slack_bolt.App", logging.INFO, __file__, 1, "Invalid request (body: %s)", (NAME,), None
    )
    assert NAME not in record.getMessage()
    assert record.getMessage().startswith("Invalid request [")
    try:
        raise ValueError(NAME)
    except ValueError:
        record = logging.getLogger("tsunagi.x").makeRecord(
            "tsunagi.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    text = logging.Formatter().format(record)
    assert "ValueError" in text and NAME not in text


def _codes(errors: dict) -> list[str]:
    return [text.split("参照番号 ")[1][:6] for text in errors.values()]


def intake_count(bot) -> int:
    with Session(bot.rt.engine) as session:
        return session.exec(select(func.count()).select_from(Case)).one()


def test_no_english_token_warning_at_start(db_url, org, slack, clock, monkeypatch, caplog):
    # Operators set SLACK_BOT_TOKEN; the client built from it must not make Bolt warn.
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    caplog.set_level(logging.DEBUG)
    harness, server = make_bot(db_url, slack, clock)
    try:
        assert "token` will be unused" not in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        server.close()
        harness.rt.engine.dispose()


def test_a_burst_of_requests_does_not_write_a_queue_line_per_request(monkeypatch):
    """waitress's "Task queue depth" warning is kept out of `tsunagi run`'s log; its errors stay."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    queue = logging.getLogger("waitress.queue")
    monkeypatch.setattr(queue, "level", logging.NOTSET)
    logging_safety.configure(logging.INFO)
    out = io.StringIO()
    root.handlers[0].setStream(out)
    queue.warning("Task queue depth is %d", 5)
    queue.error("a real waitress error")
    assert "Task queue depth" not in out.getvalue()
    assert "a real waitress error" in out.getvalue()
