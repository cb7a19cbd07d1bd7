"""Acknowledge first: a slow answer is computed after the HTTP answer (or the Socket Mode
acknowledgement) has gone back to Slack — for every kind of listener."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from handlers.common import deferred, ids
from handlers.desk import listeners as case_desk
from handlers.linknet import listeners as linknet
from handlers.plans import resources_listeners as plans_handlers
from models.cases.lifecycle import CaseState
from models.outreach import listing as outreach_domain
from models.queues import clicks
from sandbox.standin.server import Hold
from sandbox.standin.signed import action_ts
from tests.conftest import START
from tests.e2e.test_socket_mode import memo_card, sbot, socket  # noqa: F401  (fixtures)
from tests.linknet.test_linknet_e2e import answers_to, placeholder
from tests.linknet.test_linknet_figures import october
from tests.support.desk import bring_to, new_case
from tests.support.meetings import click_view, new_view
from tests.support.meetings import command as meeting_command


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
    assert started.wait(5)  # the work runs after the ack, in the same listener
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


# --- every kind of listener acknowledges before its work -------------------------------------
#
# Each test holds Slack itself: every Web API call the bot makes waits in the stand-in until the
# test lets it go (SlackStandin.hold). Had a listener called Slack — views.open, views.publish,
# chat.postEphemeral… — before ack(), Slack's answer would still be outstanding after 3 s and
# the test fails; acknowledged first, the answer is back while the call is still held, and the
# held call then arrives and completes.

SLACK_METHODS = (
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.delete",
    "conversations.open",
    "users.info",
)
SLACK_WAITS = 3.0  # what Slack gives the acknowledgement


def answered_while_held(slack, send, *, held=(), slack_call: bool = True):
    """`send()`'s answer, which must come back within Slack's 3 s while every Slack method (and
    `held`: Holds around slow work of our own) is still held; then the work is let go. With
    `slack_call`, a held Slack call must arrive after the answer (the work ran after the ack)."""
    holds = [slack.hold(method) for method in SLACK_METHODS]
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(answer=send()), daemon=True)
    try:
        thread.start()
        thread.join(SLACK_WAITS)
        assert not thread.is_alive(), "no answer while Slack was held: work ran before ack()"
        for gate in held:  # our own slow work starts after the ack, then Slack is called
            assert gate.arrived.wait(5), f"{gate.method} never ran"
            gate.release()
        if slack_call:
            assert slack.wait_for(lambda: any(h.arrived.is_set() for h in holds))
        else:
            time.sleep(0.2)
            assert not any(h.arrived.is_set() for h in holds), "a Slack call for an answer"
    finally:
        for gate in [*holds, *held]:
            gate.release()
    return box["answer"]


def hold_function(monkeypatch, module, name: str) -> Hold:
    """Hold module.name (slow work of our own) until released."""
    gate, real = Hold(f"{module.__name__}.{name}", timeout=10), getattr(module, name)

    def held(*args, **kwargs):
        gate.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return gate


def click(user: str, action: dict, *, container: dict | None = None, **extra) -> dict:
    """A block_actions payload (as Slack sends it) for one button or select."""
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0TEST"},
        "trigger_id": extra.pop("trigger_id"),
        "container": container or {"type": "message", "channel_id": "C0HOUKATSU"},
        "channel": {"id": "C0HOUKATSU"},
        "message": {"ts": "1700000000.000100", "blocks": []},
        "actions": [{"block_id": "b", "action_ts": action_ts(), **action}],
        **extra,
    }


def detail_button(user: str, case_id: int, trigger_id: str) -> dict:
    action = {"type": "button", "action_id": ids.ACTION_CASE_DETAIL, "value": str(case_id)}
    return click(user, action, trigger_id=trigger_id)


@pytest.mark.parametrize("text", ["meeting", "resources", "outreach"])
def test_a_subcommand_that_opens_a_form_acknowledges_before_views_open(bot, text):
    opened = len(bot.slack.views_opened())
    trigger = bot.slack.issue_trigger_id()
    answer = answered_while_held(
        bot.slack, lambda: bot.signed.command("U0COORD", text, trigger_id=trigger)
    )
    assert answer.status == 200 and answer.text == ""  # nothing to say: the form is the answer
    assert bot.slack.wait_for(lambda: bot.slack.views_opened()[opened:])


@pytest.mark.parametrize(
    "text, module, slow",
    [
        ("mine", case_desk, "build_desk"),  # the member's whole desk
        ("status R8-0001", case_desk, "summary"),
        ("outreach list", outreach_domain, "targets_for"),
    ],
)
def test_a_subcommand_that_answers_in_words_says_it_is_working_first(
    bot, monkeypatch, text, module, slow
):
    """Held: Slack, the storing of the question for the worker, and the subcommand's reads —
    the placeholder comes back before any; the reads are the worker's (handlers/common/
    deferred.py), the door never does them."""
    new_case(bot.rt.engine, START)
    reading = hold_function(monkeypatch, module, slow)
    storing = hold_function(monkeypatch, clicks, "enqueue")
    trigger = bot.slack.issue_trigger_id()
    answer = answered_while_held(
        bot.slack,
        lambda: bot.signed.command("U0WIN1", text, trigger_id=trigger),
        held=[storing],
        slack_call=False,
    )
    assert placeholder(answer) == "作成しています…少しお待ちください。"
    assert deferred.flush() and not reading.arrived.is_set()  # stored, not read at the door
    reading.release()

    def answered() -> list[dict]:
        bot.deliver()
        return answers_to(bot, "U0WIN1")

    assert bot.slack.wait_for(answered)[-1]["text"]
    assert reading.arrived.is_set()


def test_the_global_shortcut_acknowledges_before_the_form_opens(bot):
    trigger = bot.slack.issue_trigger_id()
    answer = answered_while_held(
        bot.slack, lambda: bot.signed.shortcut("U0WIN1", trigger_id=trigger)
    )
    assert answer.status == 200
    assert bot.slack.wait_for(lambda: bot.slack.views_opened())[-1]["callback_id"] == "memo_submit"


def test_the_message_shortcut_acknowledges_before_the_form_opens(bot):
    trigger = bot.slack.issue_trigger_id()
    answer = answered_while_held(
        bot.slack,
        lambda: bot.signed.message_shortcut("U0WIN1", trigger_id=trigger, text="試験の投稿です"),
    )
    assert answer.status == 200
    assert bot.slack.wait_for(lambda: bot.slack.views_opened())[-1]["callback_id"] == "memo_submit"


def test_a_button_that_opens_a_modal_acknowledges_first(bot):
    case_id = new_case(bot.rt.engine, START)
    payload = detail_button("U0WIN1", case_id, bot.slack.issue_trigger_id())
    answer = answered_while_held(bot.slack, lambda: bot.signed.interaction(payload))
    assert answer.status == 200
    assert "R8-0001" in json.dumps(bot.slack.wait_for(lambda: bot.slack.views_opened())[-1])


def test_a_button_that_updates_its_message_acknowledges_first(bot, monkeypatch):
    new_case(bot.rt.engine, START)
    bot.deliver()  # the case's card in the window's channel
    card = memo_card(bot.slack, "C0HOUKATSU")
    trigger = bot.slack.issue_trigger_id()
    # The click is stored after the ack (the worker does the 受付: handlers/common/deferred.py);
    # its answer and the card's update go by the outbox, so nothing calls Slack from the listener.
    taking = hold_function(monkeypatch, clicks, "enqueue")
    answer = answered_while_held(
        bot.slack,
        lambda: bot.signed.click("U0WIN1", card, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=trigger),
        held=(taking,),
        slack_call=False,
    )
    assert answer.status == 200
    bot.answers("U0WIN1")  # 引き受けました, to the clicker
    bot.deliver()  # the card itself, updated in place
    [updated] = [m for m in bot.slack.messages("C0HOUKATSU") if m["ts"] == card["ts"]]
    assert updated != card and bot.slack.calls_to("chat.update")


def test_a_select_on_a_message_acknowledges_before_the_form_opens(bot):
    case_id = new_case(bot.rt.engine, START)
    bring_to(bot.rt.engine, case_id, CaseState.window, START)
    action = {
        "type": "static_select",
        "action_id": ids.ACTION_CASE_MENU,
        "selected_option": {"value": f"escalate:{case_id}"},
    }
    payload = click("U0WIN1", action, trigger_id=bot.slack.issue_trigger_id())
    answer = answered_while_held(bot.slack, lambda: bot.signed.interaction(payload))
    assert answer.status == 200
    view = bot.slack.wait_for(lambda: bot.slack.views_opened())[-1]
    assert view["callback_id"] == ids.VIEW_CASE_STEP


def test_a_select_s_options_are_the_acknowledgement_and_call_no_slack(bot):
    case_id = new_case(bot.rt.engine, START)
    bring_to(bot.rt.engine, case_id, CaseState.marugoto, START)
    form = meeting_command(bot, "U0COORD", "meeting まるごと")
    payload = {
        "type": "block_suggestion",
        "user": {"id": "U0COORD", "team_id": "T0TEST"},
        "action_id": ids.ACTION_MEETING_CASES,
        "block_id": "cases",
        "value": "",
        "view": form,
        "container": {"type": "view", "view_id": form["id"]},
    }
    answer = answered_while_held(
        bot.slack, lambda: bot.signed.interaction(payload), slack_call=False
    )
    [option] = answer.json()["options"]
    assert option["value"] == str(case_id) and "R8-0001" in option["text"]["text"]


def test_a_form_s_submission_answers_before_the_list_behind_it_is_redrawn(bot, monkeypatch):
    """The resource form: stored and closed in the acknowledgement; the list under it (every
    resource) is read and redrawn with views.update after it."""
    listing = meeting_command(bot, "U0COORD", "resources")
    add = new_view(bot, click_view(bot, "U0COORD", listing, "resource_add", "add"))
    reading = hold_function(monkeypatch, plans_handlers, "resources_view")
    values = {"name": "試験 居場所", "kind": "ibasho"}
    answer = answered_while_held(
        bot.slack, lambda: bot.signed.submit("U0COORD", add, values), held=[reading]
    )
    assert answer.status == 200 and answer.json().get("response_action") is None
    assert bot.slack.wait_for(
        lambda: [
            v
            for v in bot.slack.views_opened()
            if v["id"] == listing["id"] and "試験 居場所" in json.dumps(v, ensure_ascii=False)
        ]
    )


def test_app_home_opened_is_acknowledged_before_the_home_is_published(bot):
    event = {"type": "app_home_opened", "user": "U0WIN1", "tab": "home", "channel": "DU0WIN1"}
    answer = answered_while_held(bot.slack, lambda: bot.signed.event(event, event_id="Ev0AF1"))
    assert answer.status == 200
    assert bot.slack.wait_for(lambda: bot.slack.home_views("U0WIN1"))


def test_app_home_opened_is_acknowledged_while_the_database_is_locked(bot, db_url):
    """The retry check writes (event ids); it runs after the ack, so a write lock held elsewhere
    (a backup, a report) does not keep Slack waiting and retrying."""
    if not db_url.startswith("sqlite"):
        return  # the lock a SQLite writer waits for; PostgreSQL's row locks do not apply here
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    event = {"type": "app_home_opened", "user": "U0WIN1", "tab": "home", "channel": "DU0WIN1"}
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert bot.signed.event(event, event_id="Ev0AF2").status == 200
        assert time.monotonic() - started < SLACK_WAITS
        assert bot.slack.home_views("U0WIN1") is None  # the work waits for the lock, after
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert bot.slack.wait_for(lambda: bot.slack.home_views("U0WIN1"))


# --- the same in Socket Mode: the envelope is acknowledged before the work -----------------------


def test_socket_mode_shortcut_is_acknowledged_before_the_form_opens(sbot):  # noqa: F811
    trigger = sbot.slack.issue_trigger_id()
    answered_while_held(sbot.slack, lambda: sbot.socket.shortcut("U0WIN1", trigger_id=trigger))
    assert (
        sbot.slack.wait_for(lambda: sbot.slack.views_opened())[-1]["callback_id"] == "memo_submit"
    )


def test_socket_mode_button_is_acknowledged_before_the_modal_opens(sbot):  # noqa: F811
    case_id = new_case(sbot.rt.engine, START)
    payload = detail_button("U0WIN1", case_id, sbot.slack.issue_trigger_id())
    answered_while_held(sbot.slack, lambda: sbot.socket.interaction(payload))
    assert "R8-0001" in json.dumps(sbot.slack.wait_for(lambda: sbot.slack.views_opened())[-1])


def test_socket_mode_message_button_is_acknowledged_before_its_answer(sbot, monkeypatch):  # noqa: F811
    new_case(sbot.rt.engine, START)
    sbot.rt.delivery.run_once()
    card = memo_card(sbot.slack, "C0HOUKATSU")
    trigger = sbot.slack.issue_trigger_id()
    taking = hold_function(monkeypatch, clicks, "enqueue")
    answered_while_held(
        sbot.slack,
        lambda: sbot.socket.click("U0WIN1", card, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=trigger),
        held=(taking,),
        slack_call=False,
    )
    sbot.answers("U0WIN1")


def test_listeners_busy_after_their_ack_do_not_hold_up_the_next_acknowledgement(bot):
    """Work after ack() keeps its listener thread (here: a reply Slack has not answered yet). A
    burst of such commands must not leave the next request waiting for a free thread: Bolt's
    default pool of 5 would make the 8th wait until Slack answers the first."""
    with bot.slack.hold("chat.postEphemeral") as gate:
        busy = [bot.signed.command("U0COORD", "summary", trigger_id="unused") for _ in range(8)]
        assert all(placeholder(a) for a in busy)  # each acknowledged, each now waiting on Slack
        assert gate.arrived.wait(5)
        box: dict = {}
        thread = threading.Thread(
            target=lambda: box.update(
                answer=bot.signed.command("U0COORD", "help", trigger_id="unused")
            ),
            daemon=True,
        )
        thread.start()
        thread.join(SLACK_WAITS)
        assert not thread.is_alive(), "the acknowledgement waited for a listener thread"
        assert box["answer"].status == 200
    # Every listener has finished (answered) before the test's database and Slack go away.
    bot.slack.wait_for(lambda: len(answers_to(bot, "U0COORD")) >= 8, timeout=60)
