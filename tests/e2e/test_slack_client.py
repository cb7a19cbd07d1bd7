"""The Slack client keeps one connection per thread, and never sends a failed call again itself."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot import slack as slack_client
from bot.slack import make_client


def kept(client) -> list:
    return [conn for conn, _ in client._local.connections.values()]


def test_calls_from_one_thread_reuse_one_connection(slack):
    client = make_client(slack.token, slack.base_url)
    client.auth_test()
    [first] = kept(client)
    client.auth_test()
    assert kept(client) == [first]


def test_a_connection_idle_too_long_is_not_reused(slack, monkeypatch):
    client = make_client(slack.token, slack.base_url)
    client.auth_test()
    [first] = kept(client)
    monkeypatch.setattr(slack_client, "IDLE_LIMIT", -1.0)
    client.auth_test()
    assert kept(client) != [first]


def test_an_error_answer_reaches_the_caller_once(slack):
    client = make_client(slack.token, slack.base_url, retries=False)
    slack.fail_next("chat.postMessage", status=503)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0COORD", text="x")
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503]
    client.chat_postMessage(channel="C0COORD", text="x")  # the same thread goes on
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503, 200]
