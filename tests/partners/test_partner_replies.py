"""Answers a person of another organisation can see when their click has no channel (a button in
a modal): handlers/common/replies.tell — a small modal over theirs, and when that cannot be
shown, their agency's door channel as an ephemeral message, since Slack refuses the town's app a
DM with them. Through signed requests and the stand-in."""

from __future__ import annotations

import re

from handlers.common import ids
from handlers.partners import listeners as partner_listeners
from sandbox.standin.signed import action_ts
from tests.partners.conftest import PARTNER, PARTNER_CHANNEL, PARTNER_TEAM

ELSEWHERE = "T0ELSE"  # not the workspace the org file gives for PARTNER: refused


def click_in_modal(pbot, user: str, team: str, *, trigger_id: str) -> None:
    """A button inside an open modal, as Slack sends it: a view container, no channel."""
    slack = pbot.slack
    view = slack.views_opened()[-1]
    payload = {
        "type": "block_actions",
        "trigger_id": trigger_id,
        "team": {"id": team, "domain": team.lower()},
        "user": {"id": user, "team_id": team},
        "container": {"type": "view", "view_id": view["id"]},
        "view": {**view, "app_installed_team_id": slack.team_id},
        "actions": [
            {
                "type": "button",
                "action_id": ids.ACTION_DOOR_STATUS,
                "block_id": "b",
                "value": "x",
                "action_ts": action_ts(),
            }
        ],
    }
    answer = pbot.signed.interaction(payload)
    assert answer.status == 200, answer.text


def open_a_modal(pbot) -> None:
    """The partner has a modal open (the door's 送ったメモの状況)."""
    slack = pbot.slack
    pbot.partner.click(
        PARTNER,
        next(m for m in slack.messages(PARTNER_CHANNEL)),
        ids.ACTION_DOOR_STATUS,
        trigger_id=slack.issue_trigger_id(),
    )
    slack.wait_for(lambda: slack.views_opened())


def dms_to(slack, user: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def test_in_a_modal_the_answer_is_a_small_modal_on_top(pbot):
    slack = pbot.slack
    open_a_modal(pbot)
    click_in_modal(pbot, PARTNER, ELSEWHERE, trigger_id=slack.issue_trigger_id())
    [pushed] = slack.wait_for(lambda: [c for c in slack.calls_to("views.push") if c.ok])
    assert "ワークスペース" in str(pushed.args["view"])
    assert dms_to(slack, PARTNER) == [] and slack.ephemerals(PARTNER) == []


def test_when_no_modal_can_be_shown_the_door_channel_tells_them_not_a_dm(pbot):
    """The click came late (its trigger expired): no modal; Slack refuses the DM to a person of
    another organisation; the note comes, only to them, in their agency's door channel."""
    slack = pbot.slack
    open_a_modal(pbot)
    click_in_modal(pbot, PARTNER, ELSEWHERE, trigger_id=slack.issue_trigger_id(ttl=0))
    [note] = slack.wait_for(lambda: slack.ephemerals(PARTNER))
    assert note["channel"] == PARTNER_CHANNEL and "ワークスペース" in note["text"]
    assert [c.error for c in dms_to(slack, PARTNER)] == ["invalid_user_combination"]
    assert [c.error for c in slack.calls_to("views.push")] == ["expired_trigger_id"]
    assert slack.messages("C0ADMIN") == []


def test_a_crash_after_the_acknowledgement_reaches_them_in_their_door_channel(
    pbot, monkeypatch, caplog
):
    """Their click in a modal was acknowledged, then the listener failed: the error answer and
    its reference code come the way every answer does — the trigger has expired, so no modal;
    Slack refuses the DM; an ephemeral message in their agency's door channel."""
    slack = pbot.slack
    open_a_modal(pbot)

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(partner_listeners, "sent_memos_page", crash)
    click_in_modal(pbot, PARTNER, PARTNER_TEAM, trigger_id=slack.issue_trigger_id(ttl=0))
    [note] = slack.wait_for(lambda: slack.ephemerals(PARTNER))
    code = re.search(r"E-[A-Z0-9]{4}", note["text"]).group()
    assert note["channel"] == PARTNER_CHANNEL and "処理できませんでした" in note["text"]
    assert [c.error for c in dms_to(slack, PARTNER)] == ["invalid_user_combination"]
    assert any(
        code in r.getMessage() and "listener failed" in r.getMessage() for r in caplog.records
    )


def test_a_crash_answered_in_a_small_modal_while_the_trigger_lives(pbot, monkeypatch):
    slack = pbot.slack
    open_a_modal(pbot)

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(partner_listeners, "sent_memos_page", crash)
    click_in_modal(pbot, PARTNER, PARTNER_TEAM, trigger_id=slack.issue_trigger_id())
    [pushed] = slack.wait_for(lambda: [c for c in slack.calls_to("views.push") if c.ok])
    assert "処理できませんでした" in str(pushed.args["view"]) and "E-" in str(pushed.args["view"])
    assert dms_to(slack, PARTNER) == [] and slack.ephemerals(PARTNER) == []
