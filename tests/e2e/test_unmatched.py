"""A button, form, shortcut or option list no listener knows (a message from before an upgrade,
or a forged request) is answered in words, not with Bolt's 404 and Slack's warning sign."""

from __future__ import annotations

import logging

from sandbox.standin.signed import TEAM

USER = {"id": "U0WIN1", "team_id": TEAM["id"]}


def test_an_old_button_on_a_message_is_explained_to_the_person(bot, caplog):
    caplog.set_level(logging.INFO)
    answer = bot.signed.interaction(
        {
            "type": "block_actions",
            "user": USER,
            "trigger_id": bot.slack.issue_trigger_id(),
            "container": {"type": "message", "channel_id": "C0HOUKATSU", "message_ts": "1.1"},
            "channel": {"id": "C0HOUKATSU"},
            "message": {"ts": "1.1", "blocks": []},
            "actions": [{"type": "button", "action_id": "gone_in_this_version", "value": "1"}],
        }
    )
    assert answer.status == 200
    [note] = bot.slack.wait_for(lambda: bot.slack.ephemerals("U0WIN1"))
    assert "いまは使えません" in note["text"]
    lines = [r.getMessage() for r in caplog.records if r.name == "tsunagi.handlers"]
    assert lines == ["a button no listener knows was pressed (an old message, or forged)"]


def test_an_old_form_is_replaced_by_a_note(bot):
    view = {
        "id": "V0OLD",
        "type": "modal",
        "callback_id": "gone_form",
        "blocks": [],
        "state": {"values": {}},
    }
    answer = bot.signed.interaction({"type": "view_submission", "user": USER, "view": view})
    assert answer.status == 200
    reply = answer.json()
    assert reply["response_action"] == "update"
    assert "開き直して" in str(reply["view"])


def test_an_unknown_shortcut_opens_a_note(bot):
    answer = bot.signed.interaction(
        {
            "type": "shortcut",
            "user": USER,
            "callback_id": "gone_shortcut",
            "trigger_id": bot.slack.issue_trigger_id(),
        }
    )
    assert answer.status == 200
    [view] = bot.slack.wait_for(lambda: bot.slack.views_opened())
    assert "いまは使えません" in str(view)


def test_an_unknown_option_list_is_empty(bot):
    answer = bot.signed.interaction(
        {
            "type": "block_suggestion",
            "user": USER,
            "action_id": "gone_select",
            "block_id": "b",
            "value": "R8",
            "view": {"id": "V0OLD", "type": "modal", "callback_id": "x", "private_metadata": ""},
        }
    )
    assert answer.status == 200 and answer.json() == {"options": []}
