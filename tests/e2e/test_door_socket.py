"""The size cap on Socket Mode envelopes, end to end through the stand-in's WebSocket: an
over-cap envelope is acknowledged (so Slack does not send it again), dropped, and logged in one
line without its body."""

from __future__ import annotations

import json
import logging

import pytest

from bot import door
from models.cases.tables import Referral
from tests.conftest import memo_values
from tests.e2e.test_socket_mode import count, sbot, socket  # noqa: F401  (fixtures)

NAME = "辰野試験子"


def test_an_over_cap_envelope_is_acknowledged_dropped_and_logged_without_body(sbot, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    view = sbot.open_memo("U0PARTNER1")
    narrative = NAME * (door.MAX_BODY // len(NAME.encode()) + 1)
    envelope_answer = sbot.socket.submit(
        "U0PARTNER1", view, memo_values(person_name=NAME, narrative=narrative)
    )
    assert envelope_answer == {}  # acknowledged without a payload: nothing was handled
    assert count(sbot.rt.engine, Referral) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "tsunagi.door"]
    assert len(lines) == 1 and lines[0].startswith("dropped a Socket Mode envelope: too large")
    assert NAME not in caplog.text


def test_an_envelope_under_the_cap_is_handled(sbot):  # noqa: F811
    view = sbot.open_memo("U0PARTNER1")
    answer = sbot.socket.submit("U0PARTNER1", view, memo_values(person_name=NAME))
    assert answer.get("response_action") == "update"
    # On a loaded machine the 「処理しています」 screen may come first; the memo follows.
    sbot.slack.wait_for(lambda: count(sbot.rt.engine, Referral) == 1)


# --- shapes: the same checks as HTTP (bot/shapes.py) ------------------------------------------

USER = {"id": "U0PARTNER1", "team_id": "T0TEST"}
ILL_SHAPED = {
    "interactive payload null": ("interactive", None),
    "interactive payload a list": ("interactive", [1]),
    "interactive payload a number": ("interactive", 5),
    "block actions without actions": ("interactive", {"type": "block_actions", "user": USER}),
    "block actions with an empty list": (
        "interactive",
        {"type": "block_actions", "user": USER, "actions": []},
    ),
    "block actions with team a number": (
        "interactive",
        {"type": "block_actions", "user": USER, "actions": [{"action_id": "a"}], "team": 5},
    ),
    "block actions without user": ("interactive", {"type": "block_actions", "actions": []}),
    "block actions with user a string": (
        "interactive",
        {"type": "block_actions", "user": "U0PARTNER1", "actions": [{"action_id": "a"}]},
    ),
    "unknown payload type": ("interactive", {"type": "mystery", "user": USER}),
    "view submission without view": ("interactive", {"type": "view_submission", "user": USER}),
    "event a string": ("events_api", {"type": "event_callback", "event": "x"}),
    "event without type": ("events_api", {"type": "event_callback", "event": {}}),
    "home opened by a user that is a number": (
        "events_api",
        {"type": "event_callback", "event": {"type": "app_home_opened", "user": 5}},
    ),
    "slash command without user": ("slash_commands", {"command": "/tsunagi", "text": "help"}),
    "slash command with a number for user": (
        "slash_commands",
        {"command": "/tsunagi", "user_id": 5, "text": "help"},
    ),
    "slash command with a number for text": (
        "slash_commands",
        {"command": "/tsunagi", "user_id": "U0PARTNER1", "text": 5},
    ),
    "unknown envelope type": ("mystery", {"type": "block_actions"}),
}


def _quiet(caplog) -> None:
    """No error, no traceback, and nothing of the envelope in any logger."""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text and NAME not in caplog.text


@pytest.mark.parametrize("kind", sorted(ILL_SHAPED))
def test_an_ill_shaped_envelope_is_acknowledged_once_and_logged_in_one_line(sbot, caplog, kind):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    type_, payload = ILL_SHAPED[kind]
    envelope = sbot.socket.deliver(type_, payload, accepts_response_payload=True)
    assert len(envelope.attempts) == 1  # acknowledged: Slack does not send it again
    lines = [r.getMessage() for r in caplog.records if r.name == "tsunagi.door"]
    assert len(lines) == 1 and lines[0].startswith("dropped a Socket Mode envelope: ")
    _quiet(caplog)
    assert sbot.slack.calls_to("views.open") == [] and sbot.slack.messages() == []


@pytest.mark.parametrize(
    "frame",
    [f"not json {NAME}", "[1]", "null", json.dumps({"type": "interactive", "payload": {}})],
)
def test_a_frame_that_is_no_envelope_is_logged_in_one_line(sbot, caplog, frame):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    sbot.socket.send_raw(frame)
    sbot.slack.wait_for(lambda: [r for r in caplog.records if r.name == "tsunagi.door"])
    _quiet(caplog)
    # The link still works: a command right after is answered.
    assert sbot.socket.command("U0WIN1", "help", trigger_id="t-after")
