"""A partner of another organisation, present only through a Slack Connect channel, sends a memo
through the pinned door and follows it to 受付 — through signed HTTP requests and in Socket Mode;
a guest uses the same door; strangers and other workspaces are refused politely."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from sqlmodel import Session, select

from handlers.common import ids
from handlers.partners import identity
from handlers.partners.doors import sync_doors
from models.cases.tables import Case, Referral
from models.ops.tables import AuditEntry
from models.org.tables import Member
from models.queues.tables import Notice
from sandbox.standin.connect import NotOffered
from tests.conftest import memo_values
from tests.partners.conftest import GUEST, OUTSIDER, PARTNER, PARTNER_CHANNEL, door


def texts(messages) -> str:
    """What the messages say, without Slack's timestamps: a ts is digits that may hold any
    probe (a ts of …5860.026657 holds "0266", the synthetic phone's area code)."""

    def said(m):
        return (
            {k: v for k, v in m.items() if k not in ("ts", "thread_ts")}
            if isinstance(m, dict)
            else m
        )

    if isinstance(messages, list):
        return json.dumps([said(m) for m in messages], ensure_ascii=False)
    return json.dumps(said(messages), ensure_ascii=False)


def card(slack, channel: str) -> dict:
    [message] = [m for m in slack.messages(channel) if ids.ACTION_CASE_MENU in texts(m["blocks"])]
    return message


def send_through_door(slack, partner, user: str) -> dict:
    """Click つなぎメモを書く, fill the form, send it; returns the answer to the submission."""
    before = len(slack.views_opened())
    partner.click(user, door(slack), ids.ACTION_DOOR_MEMO, trigger_id=slack.issue_trigger_id())
    slack.wait_for(lambda: len(slack.views_opened()) > before)
    view = slack.views_opened()[-1]
    assert view["callback_id"] == ids.VIEW_MEMO
    assert json.loads(view["private_metadata"])["door"] == PARTNER_CHANNEL
    answer = partner.submit(user, view, memo_values())
    return answer if isinstance(answer, dict) else answer.json()


def the_case(engine) -> tuple[Case, Referral]:
    with Session(engine) as s:
        return s.exec(select(Case, Referral).where(Referral.case_id == Case.id)).one()


def deliver_all(deliver) -> None:
    while deliver():
        pass


def follow_to_acknowledged(slack, engine, deliver, acknowledge, user: str) -> None:
    """Stored and routed → receipt by the fallback → 受付 → status notice by the fallback."""
    case, referral = the_case(engine)
    assert referral.origin_channel == PARTNER_CHANNEL
    with Session(engine) as s:
        assert s.get(Member, case.referrer_id).slack_id == user
    deliver_all(deliver)
    routed = card(slack, "C0HOUKATSU")  # routed to the elderly window
    # The DM could not be opened; the receipt number came where they clicked, only to them.
    [receipt] = slack.ephemerals(user)
    assert receipt["channel"] == PARTNER_CHANNEL and case.number in receipt["text"]
    assert not [c for c in slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == user]
    assert slack.messages("C0ADMIN") == []  # nothing failed: no alert
    acknowledge(routed)  # answered at once, handled after the answer: wait for its notice
    [reply] = slack.wait_for(
        lambda: (
            deliver_all(deliver) or [m for m in slack.messages(PARTNER_CHANNEL) if m["thread_ts"]]
        )
    )
    assert reply["thread_ts"] == door(slack)["ts"]
    shown = texts(reply)
    assert f"<@{user}>" in shown and case.number in shown and "引き受け済み" in shown
    for personal in ("辰野", "0266", "試験用", "高齢者相談"):  # nothing personal, no agency
        assert personal not in shown
    deliver_all(deliver)  # nothing doubled
    assert len([m for m in slack.messages(PARTNER_CHANNEL) if m["thread_ts"]]) == 1
    assert len(slack.ephemerals(user)) == 1
    with Session(engine) as s:
        states = {n.kind: n.state for n in s.exec(select(Notice))}
    assert states["memo_receipt"] == "cancelled" and states["referrer_reach"] == "sent"


def test_the_door_is_pinned_once_and_kept_by_editing(pbot):
    slack = pbot.slack
    first = door(slack)
    assert ids.ACTION_DOOR_MEMO in texts(first["blocks"])
    assert slack.calls_to("pins.add")[-1].args["timestamp"] == first["ts"]
    assert [o.result for o in sync_doors(pbot.rt.engine, pbot.rt.client)] == ["unchanged"]
    assert len(slack.messages(PARTNER_CHANNEL)) == 1


def test_a_partner_of_another_organisation_follows_a_memo_to_acknowledged(pbot):
    slack = pbot.slack
    with pytest.raises(NotOffered):  # Slack does not offer /tsunagi to them
        pbot.partner.command(PARTNER, trigger_id=slack.issue_trigger_id())
    with pytest.raises(NotOffered):
        pbot.partner.shortcut(PARTNER, trigger_id=slack.issue_trigger_id())
    answer = send_through_door(slack, pbot.partner, PARTNER)
    assert answer["response_action"] == "update"
    follow_to_acknowledged(
        slack,
        pbot.rt.engine,
        pbot.deliver,
        lambda c: pbot.signed.click(
            "U0WIN1", c, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=slack.issue_trigger_id()
        ),
        PARTNER,
    )


def test_the_same_path_in_socket_mode(psbot):
    slack = psbot.slack
    with pytest.raises(NotOffered):
        psbot.partner.command(PARTNER, trigger_id=slack.issue_trigger_id())
    answer = send_through_door(slack, psbot.partner, PARTNER)
    assert answer["response_action"] == "update"
    follow_to_acknowledged(
        slack,
        psbot.engine,
        psbot.delivery.run_once,
        lambda c: psbot.partner.click(
            "U0WIN1", c, ids.ACTION_CASE_ACKNOWLEDGE, trigger_id=slack.issue_trigger_id()
        ),
        PARTNER,
    )


def test_a_single_channel_guest_uses_the_door_and_hears_back_by_dm(pbot):
    slack = pbot.slack
    with pytest.raises(NotOffered):
        pbot.partner.command(GUEST, trigger_id=slack.issue_trigger_id())
    answer = send_through_door(slack, pbot.partner, GUEST)
    assert answer["response_action"] == "update"
    deliver_all(pbot.deliver)
    case, _ = the_case(pbot.rt.engine)
    [dm] = slack.messages("D" + GUEST)  # a guest of the town's workspace: the DM arrives
    assert case.number in dm["text"]
    assert slack.ephemerals(GUEST) == []


def test_someone_of_an_unknown_workspace_is_refused_politely_and_logged_by_team(pbot, caplog):
    slack = pbot.slack
    caplog.set_level(logging.INFO)
    views = len(slack.views_opened())
    answer = pbot.partner.click(OUTSIDER, door(slack), ids.ACTION_DOOR_MEMO, trigger_id="x")
    assert answer.status == 200  # acknowledged; the note follows
    [note] = slack.wait_for(lambda: slack.ephemerals(OUTSIDER))
    assert "このワークスペースからは" in note["text"]
    assert len(slack.views_opened()) == views
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "T0ELSE" in logged and OUTSIDER not in logged
    with Session(pbot.rt.engine) as s:
        assert s.exec(select(Case)).all() == []
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "identity")).one()
        assert entry.allowed is False


def test_a_flood_of_refused_clicks_is_audited_each_by_one_thread(pbot):
    """Every refusal is audited and told after its answer, by one thread for all of them (a
    thread each would let a flood of forged requests start as many)."""
    slack = pbot.slack
    for i in range(12):
        answer = pbot.partner.click(OUTSIDER, door(slack), ids.ACTION_DOOR_MEMO, trigger_id=f"x{i}")
        assert answer.status == 200
    assert identity.flush(timeout=20)
    assert len([t for t in threading.enumerate() if t.name == "tsunagi-refusal"]) <= 1
    assert len(slack.ephemerals(OUTSIDER)) == 12
    with Session(pbot.rt.engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "identity")).all()
    assert len(entries) == 12 and not any(e.allowed for e in entries)


def test_a_member_acting_from_another_workspace_than_listed_is_refused(pbot):
    view = {"id": "V0FORGED", "type": "modal", "callback_id": ids.VIEW_MEMO, "blocks": []}
    answer = pbot.signed.interaction(  # the listed partner, but from the town's own workspace
        {
            "type": "view_submission",
            "user": {"id": PARTNER, "team_id": "T0TEST"},
            "view": {**view, "state": {"values": {}}},
        }
    ).json()
    assert answer["response_action"] == "update"
    assert "一致しない" in texts(answer["view"])
    with Session(pbot.rt.engine) as s:
        assert s.exec(select(Case)).all() == []


def test_a_stranger_in_the_channel_is_told_whom_to_ask(pbot):
    slack = pbot.slack
    slack.add_user("U0STRANGER")
    pbot.signed.click("U0STRANGER", door(slack), ids.ACTION_DOOR_MEMO, trigger_id="unused")
    [note] = slack.wait_for(lambda: slack.ephemerals("U0STRANGER"))
    assert "重層推進室" in note["text"]
    with Session(pbot.rt.engine) as s:
        assert s.exec(select(Case)).all() == []


def test_sent_memos_show_receipt_numbers_and_status_words_only(pbot):
    slack = pbot.slack
    send_through_door(slack, pbot.partner, PARTNER)
    case, _ = the_case(pbot.rt.engine)
    before = len(slack.views_opened())
    trigger = slack.issue_trigger_id()
    pbot.partner.click(PARTNER, door(slack), ids.ACTION_DOOR_STATUS, trigger_id=trigger)
    slack.wait_for(lambda: len(slack.views_opened()) > before)
    shown = texts(slack.views_opened()[-1]["blocks"])
    assert case.number in shown and "引き受け待ち" in shown and "辰野" not in shown
