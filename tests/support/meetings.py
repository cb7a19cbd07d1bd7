"""Helpers for the meetings' and plans' tests: Slack payloads for the elements these forms use
(time pickers, user and external selects, checkboxes), the options request of the cases select,
clicks in messages and views, and the database facts the tests look at."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import Session, select

from handlers.common.texts import t
from models.base.clock import TOKYO
from models.meetings.tables import Meeting
from models.ops.tables import AuditEntry
from models.queues.tables import Reminder
from sandbox.standin.signed import TEAM, action_ts
from tests.support.forms import settled

COORD = "U0COORD"


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def user(slack_id: str) -> dict:
    return {"id": slack_id, "team_id": TEAM["id"]}


def state_for(view: dict, values: dict) -> dict:
    """view.state.values as Slack sends them, for {block_id: answer}; blocks the view does not
    have may be given too (a crafted request), as {"type": …, …} entries."""
    state: dict = {}
    blocks = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
    for block_id, value in values.items():
        if block_id not in blocks:
            state[block_id] = {"value": value}
            continue
        element = blocks[block_id]["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            entry = {"type": kind, "value": value}
        elif kind in ("static_select", "radio_buttons"):
            entry = {"type": kind, "selected_option": None if value is None else {"value": value}}
        elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            entry = {"type": kind, "selected_options": [{"value": str(v)} for v in value]}
        elif kind == "multi_users_select":
            entry = {"type": kind, "selected_users": list(value)}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": value}
        elif kind == "timepicker":
            entry = {"type": kind, "selected_time": value, "timezone": "Asia/Tokyo"}
        else:
            raise AssertionError(f"unsupported element {kind}")
        state[block_id] = {element["action_id"]: entry}
    return state


def submit(bot, slack_id: str, view: dict, values: dict) -> dict:
    """Submit a modal as `slack_id`; the bot's answer (response_action …) as a dict.

    When the action is done the bot goes on to refresh the user's Home tab; this waits for it,
    so no listener is still at work (holding a transaction) when the test ends."""
    home = (bot.slack.home_views(slack_id) or {}).get("hash")
    updates = len(bot.slack.calls_to("views.update"))
    view = {**view, "state": {"values": state_for(view, values)}}
    answer = bot.signed.interaction(
        {"type": "view_submission", "user": user(slack_id), "trigger_id": "unused", "view": view}
    )
    assert answer.status == 200, answer.text
    body = settled(bot.slack, view["id"], answer.json() if answer.text else {}, updates)
    if (body.get("view") or {}).get("title", {}).get("text") == "完了しました":
        bot.slack.wait_for(
            lambda: (v := bot.slack.home_views(slack_id)) is not None and v["hash"] != home
        )
    return body


def command(bot, slack_id: str, text: str) -> dict | None:
    """`/tsunagi text` as `slack_id`: the modal it opened, or None (then see the reply)."""
    before = len(bot.slack.views_opened())
    said = len(answered(bot, slack_id))
    answer = bot.signed.command(slack_id, text, trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200, answer.text
    working = False
    if answer.text:
        try:
            reply = answer.json()
        except ValueError:
            reply = {"text": answer.text}
        working = reply.get("text") == t("command.working")
        if not working:
            return {"reply": reply}
    # Acknowledged at once, empty where a form opens; 「作成しています…」 where the worker
    # answers in words (handlers/common/deferred.py), delivered here as the worker would.

    def followed():
        if working:
            bot.deliver()
        opened, reply = bot.slack.views_opened()[before:], answered(bot, slack_id)[said:]
        return (opened[0] if opened else {"reply": reply[-1]}) if opened or reply else None

    return bot.slack.wait_for(followed)


def answered(bot, slack_id: str) -> list[dict]:
    """What reached the person after a command: ephemerals to them, then their DMs."""
    return bot.slack.ephemerals(slack_id) + bot.slack.messages(f"D{slack_id}")


def options(bot, slack_id: str, view: dict, query: str) -> list[dict]:
    """The options the bot offers in the cases select for `query` (a block_suggestion)."""
    answer = bot.signed.interaction(
        {
            "type": "block_suggestion",
            "user": user(slack_id),
            "action_id": "meeting_cases",
            "block_id": "cases",
            "value": query,
            "view": view,
            "container": {"type": "view", "view_id": view["id"]},
        }
    )
    assert answer.status == 200, answer.text
    return answer.json().get("options", [])


def _action_of(block: dict, element: dict) -> dict:
    if element.get("type") == "static_select":
        return {
            "type": "static_select",
            "action_id": element["action_id"],
            "block_id": block.get("block_id", ""),
            "selected_option": {"value": element.get("value")},
        }
    return {
        "type": "button",
        "action_id": element["action_id"],
        "block_id": block.get("block_id", ""),
        "value": element.get("value"),
        "action_ts": action_ts(),
    }


def _find(blocks: list[dict], action_id: str, value: str | None) -> tuple[dict, dict]:
    for block in blocks:
        elements = list(block.get("elements", []))
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") != action_id:
                continue
            if value is not None and element.get("value") != value:
                continue
            return block, element
    raise AssertionError(f"no {action_id} ({value}) in {json.dumps(blocks, ensure_ascii=False)}")


def has_button(blocks: list[dict], action_id: str, value: str | None = None) -> bool:
    try:
        _find(blocks, action_id, value)
        return True
    except AssertionError:
        return False


def click_view(bot, slack_id: str, view: dict, action_id: str, value: str | None = None):
    """Click a button in a modal or Home view; returns the new modal opened, if any."""
    block, element = _find(view["blocks"], action_id, value)
    before = len(bot.slack.views_opened())
    answer = bot.signed.interaction(
        {
            "type": "block_actions",
            "user": user(slack_id),
            "trigger_id": bot.slack.issue_trigger_id(),
            "container": {"type": "view", "view_id": view["id"]},
            "view": view,
            "actions": [_action_of(block, element)],
        }
    )
    assert answer.status == 200, answer.text
    return before


def click_message(bot, slack_id: str, message: dict, action_id: str, value: str | None = None):
    block, element = _find(message["blocks"], action_id, value)
    before = len(bot.slack.views_opened())
    answer = bot.signed.interaction(
        {
            "type": "block_actions",
            "user": user(slack_id),
            "trigger_id": bot.slack.issue_trigger_id(),
            "container": {"type": "message", "channel_id": message["channel"]},
            "channel": {"id": message["channel"]},
            "message": {"ts": message["ts"], "blocks": message["blocks"]},
            "response_url": "http://127.0.0.1:9/unused",
            "actions": [_action_of(block, element)],
        }
    )
    assert answer.status == 200, answer.text
    return before


def new_view(bot, before: int) -> dict:
    return bot.slack.wait_for(lambda: bot.slack.views_opened()[before:])[0]


def ephemeral_after(bot, slack_id: str, before: int) -> str:
    return bot.answers(slack_id, before)[-1]["text"]


def dms(bot, slack_id: str) -> list[dict]:
    return bot.slack.messages(f"D{slack_id}")


def key_of(message: dict) -> str:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")


def text_of(thing) -> str:
    return json.dumps(thing, ensure_ascii=False)


def meetings(engine) -> list[Meeting]:
    with Session(engine) as s:
        return list(s.exec(select(Meeting).order_by(Meeting.id)))


def reminders(engine, *, rule: str | None = None, state: str | None = None) -> list[Reminder]:
    with Session(engine) as s:
        query = select(Reminder).order_by(Reminder.due_at, Reminder.id)
        rows = list(s.exec(query))
    return [r for r in rows if (rule is None or r.rule == rule) and (state in (None, r.state))]


def audits(engine, action: str | None = None) -> list[AuditEntry]:
    with Session(engine) as s:
        rows = list(s.exec(select(AuditEntry).order_by(AuditEntry.id)))
    return [a for a in rows if action is None or a.action == action]


def local(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def d(text: str) -> date:
    return date.fromisoformat(text)


def fresh_home(bot, user) -> dict:
    """The user's Home tab as published after opening it now."""
    old = (bot.slack.home_views(user) or {}).get("hash")
    bot.signed.event(
        {"type": "app_home_opened", "user": user, "tab": "home"},
        event_id=f"Ev{user}{len(bot.slack.calls_to('views.publish'))}",
    )
    return bot.slack.wait_for(
        lambda: (v := bot.slack.home_views(user)) is not None and v["hash"] != old and v
    )
