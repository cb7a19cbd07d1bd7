"""The size cap on Socket Mode envelopes, end to end through the stand-in's WebSocket: an
over-cap envelope is acknowledged (so Slack does not send it again), dropped, and logged in one
line without its body."""

from __future__ import annotations

import logging

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
    assert count(sbot.rt.engine, Referral) == 1
