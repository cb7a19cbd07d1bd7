"""Acknowledge first: a slow answer is computed after the HTTP answer has gone back to Slack."""

from __future__ import annotations

import threading

from handlers import linknet
from tests.test_linknet_e2e import answers_to, placeholder
from tests.test_linknet_figures import october
from tests.test_socket_mode import sbot, socket  # noqa: F401  (fixtures)


def test_summary_answers_at_once_and_the_preview_follows(bot, monkeypatch):
    october(bot.rt.engine)
    started, release = threading.Event(), threading.Event()
    real = linknet.preview

    def held(*args, **kwargs):
        started.set()
        release.wait(10)  # the test lets it go only after the HTTP answer has arrived
        return real(*args, **kwargs)

    monkeypatch.setattr(linknet, "preview", held)
    answer = bot.signed.command(
        "U0COORD", "summary 2026-10", trigger_id=bot.slack.issue_trigger_id()
    )
    # Had the preview been computed before the ack, the answer would only come after 10 s,
    # with the preview already sent; here it is the placeholder, and nothing else yet.
    assert placeholder(answer) == "作成しています…少しお待ちください。"
    assert not release.is_set()
    assert answers_to(bot, "U0COORD") == []
    assert started.wait(5)  # the work runs after the ack, in the lazy listener
    release.set()
    preview = bot.slack.wait_for(lambda: answers_to(bot, "U0COORD"))[-1]
    assert "2026年10月" in preview["text"] and preview["blocks"]


def test_summary_in_socket_mode_acknowledges_before_the_preview(sbot, monkeypatch):  # noqa: F811
    october(sbot.rt.engine)
    release = threading.Event()
    real = linknet.preview

    def held(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(linknet, "preview", held)
    acked = sbot.socket.command(
        "U0COORD", "summary 2026-10", trigger_id=sbot.slack.issue_trigger_id()
    )
    assert acked.get("text") == "作成しています…少しお待ちください。"
    assert answers_to(sbot, "U0COORD") == []  # the envelope was acknowledged first
    release.set()
    preview = sbot.slack.wait_for(lambda: answers_to(sbot, "U0COORD"))[-1]
    assert "2026年10月" in preview["text"] and preview["blocks"]
