"""The answer to a click on a channel message (引き受ける) goes through the outbox
(handlers/common/click_reply.py): stored with the action (which the worker does: handlers/common/
deferred.py), sent once by the delivery worker, only to the person who clicked, and passed on
when Slack refuses one way."""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlmodel import Session, select

from handlers.common import ids
from models.base.db import transaction
from models.org.tables import Agency
from models.queues import outbox
from models.queues.tables import Notice
from tests.conftest import START
from tests.e2e.test_socket_mode import memo_card
from tests.support.desk import new_case

PERSONAL = ("辰野", "試験子", "0266", "買い物")


def click_take(bot) -> dict:
    new_case(bot.rt.engine, START)
    bot.deliver()  # the case's card in the window's channel
    card = memo_card(bot.slack, "C0HOUKATSU")
    answer = bot.signed.click(
        "U0WIN1", card, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=bot.slack.issue_trigger_id()
    )
    assert answer.status == 200
    return card


def replies(bot) -> list[Notice]:
    with Session(bot.rt.engine) as s:
        return list(s.exec(select(Notice).where(Notice.kind.startswith("click_reply"))))


def wait_for_reply(bot) -> Notice:
    """The worker does the stored click: the answer is queued with the 受付 (not yet sent)."""
    bot.slack.fail_next("chat.postEphemeral", status=503)  # this round's send fails: retried
    bot.deliver()
    [reply] = replies(bot)
    return reply


def test_the_answer_is_stored_with_the_action_and_sent_once_by_the_worker(bot, clock):
    click_take(bot)
    assert not bot.slack.calls_to("chat.postEphemeral")  # the listener itself sends nothing
    reply = wait_for_reply(bot)
    # Queued with the 受付 itself, for the person who clicked: receipt number only.
    assert reply.target == "U0WIN1" and reply.payload["channel"] == "C0HOUKATSU"
    assert "R8-0001" in reply.payload["text"]
    assert not any(word in json.dumps(reply.payload, ensure_ascii=False) for word in PERSONAL)
    clock.advance(seconds=60)  # past the failed send's retry
    [said] = bot.answers("U0WIN1")
    assert said["channel"] == "C0HOUKATSU" and "引き受けました" in said["text"]
    bot.deliver()
    bot.deliver()
    assert len(bot.slack.ephemerals("U0WIN1")) == 1  # once, however often the worker runs


def test_a_rate_limited_answer_waits_and_is_sent_later(bot, clock):
    click_take(bot)
    bot.slack.fail_next("chat.postEphemeral", status=429, retry_after=30)
    bot.deliver()  # the click done, its answer refused for now
    assert bot.slack.ephemerals("U0WIN1") == []
    assert replies(bot)[0].state == "pending"  # delayed, not dropped
    clock.advance(seconds=30)
    bot.deliver()
    [said] = bot.slack.ephemerals("U0WIN1")
    assert "引き受けました" in said["text"]


def test_an_answer_refused_in_the_channel_comes_by_direct_message(bot):
    click_take(bot)
    bot.slack.fail_next("chat.postEphemeral", status=200, error="user_not_in_channel")
    bot.deliver()  # the click done; its answer refused in the channel
    bot.deliver()  # the answer passed on to a DM
    [dm] = bot.slack.messages("DU0WIN1")
    assert "引き受けました" in dm["text"] and "R8-0001" in dm["text"]
    assert [r.state for r in replies(bot)] == ["cancelled", "sent"]


def test_an_answer_no_dm_reaches_is_shown_in_their_agency_door_channel(bot):
    # A person of another organisation: the app may not DM them (Slack Connect).
    bot.slack.add_channel("C0MINSEI", members=["U0SUPPORT1"])
    with transaction(bot.rt.engine) as s:
        s.execute(update(Agency).where(Agency.key == "minsei").values(channel="C0MINSEI"))
    with transaction(bot.rt.engine) as s:
        outbox.enqueue(
            s,
            key="reply:U0SUPPORT1:1",
            kind="click_reply",
            target="U0SUPPORT1",
            payload={"text": "完了にしました。", "channel": "C0HOUKATSU", "way": "ephemeral"},
            at=START,
        )
    bot.slack.fail_next("chat.postEphemeral", status=200, error="user_not_in_channel")
    bot.slack.fail_next("chat.postMessage", status=200, error="invalid_user_combination")
    for _ in range(3):
        bot.deliver()
    [said] = bot.slack.ephemerals("U0SUPPORT1")
    assert said["channel"] == "C0MINSEI" and said["text"] == "完了にしました。"
    assert [r.payload["way"] for r in replies(bot)] == ["ephemeral", "dm", "door"]
    assert [r.state for r in replies(bot)] == ["cancelled", "cancelled", "sent"]
