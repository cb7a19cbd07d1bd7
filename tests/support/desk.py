"""Helpers for the case desk's tests: cases made through the domain, and Slack payloads the
stand-in's messages and views are clicked with (selects, buttons in modals and Home, forms)."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import Session, select

from models.base.db import transaction
from models.cases import casework
from models.cases import memo as intake
from models.cases.consent import ConsentInput
from models.cases.consent import record as record_consent
from models.cases.lifecycle import CaseState
from models.cases.memo import MemoInput
from models.cases.tables import Case
from models.ops.tables import AuditEntry
from models.org.tables import Agency, Member
from sandbox.standin.signed import TEAM
from tests.support.forms import settled

USERS = {
    "coordinator": "U0COORD",
    "window": "U0WIN1",  # 高齢者相談支援センター (houkatsu): where kaigo memos go
    "other_window": "U0KODOMO1",
    "partner": "U0PARTNER1",  # 試験小学校: sends the memos
    "support": "U0SUPPORT1",
    "department": "U0DEPT1",
    "admin": "U0ADMIN1",
    "stranger": "U0STRANGER",
    "deactivated": "U0GONE",  # a former member of houkatsu, deactivated
}


def memo(**overrides) -> MemoInput:
    values = dict(
        narrative="試験用の相談内容です。",
        concerns=["kaigo"],
        urgency="normal",
        consent_to_share="yes",
        age_band="75+",
        person_name="辰野 試験子",
        contact="0266-00-0000",
    )
    values.update(overrides)
    return MemoInput(**values)


def member(session: Session, slack_id: str) -> Member:
    return session.exec(select(Member).where(Member.slack_id == slack_id)).one()


def agency(session: Session, key: str) -> Agency:
    return session.exec(select(Agency).where(Agency.key == key)).one()


def add_deactivated(engine, slack_id: str = "U0GONE", agency_key: str = "houkatsu") -> None:
    """A window member of `agency_key` who has left (the org file dropped them)."""
    with transaction(engine) as session:
        session.add(
            Member(
                slack_id=slack_id,
                name="試験 退職者",
                agency_id=agency(session, agency_key).id,
                roles=["window"],
                active=False,
            )
        )


def new_case(engine, at, *, referrer: str = "U0PARTNER1", **fields) -> int:
    with transaction(engine) as session:
        case = intake.submit(
            session, memo=memo(**fields), referrer=member(session, referrer), view_id=None, at=at
        )
        return case.id


def bring_to(engine, case_id: int, state: str, at, *, lead: str | None = None) -> None:
    """Walk a houkatsu memo through the real steps to `state` (window, coordination, …)."""
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        win = member(session, "U0WIN1")
        coord = member(session, "U0COORD")
        if state == CaseState.received:
            return
        intake.acknowledge(session, case_id=case_id, member=win, at=at)
        if state == CaseState.window:
            return
        if state == "suspended_at_window":
            casework.suspend(session, case=case, member=win, reason="試験の中断理由", at=at)
            return
        casework.escalate(session, case=case, member=win, reason="試験の理由", at=at)
        if lead:
            casework.set_lead(
                session,
                case=case,
                member=coord,
                agency_id=agency(session, lead).id,
                reason=None,
                at=at,
            )
        if state == CaseState.coordination:
            return
        casework.start_assessment(session, case=case, member=coord, at=at)
        if state == CaseState.assessment:
            return
        if state in (CaseState.marugoto, CaseState.support):
            give_consent(session, case, coord, at)
            casework.advance(session, case=case, member=coord, stage="marugoto", note=None, at=at)
            if state == CaseState.support:
                casework.advance(
                    session, case=case, member=coord, stage="support", note=None, at=at
                )
            return
        if state == CaseState.saponet:
            casework.advance(session, case=case, member=coord, stage="saponet", note=None, at=at)
            return
        raise AssertionError(f"bring_to does not know {state}")


def give_consent(session: Session, case: Case, who: Member, at, agencies=("houkatsu",)) -> None:
    record_consent(
        session,
        case=case,
        member=who,
        data=ConsentInput(
            status="given",
            method="written",
            obtained_on=date(2026, 11, 26),
            agency_ids=[agency(session, k).id for k in agencies],
        ),
        at=at,
    )


def state_of(engine, case_id: int) -> str:
    with Session(engine) as s:
        return s.get(Case, case_id).state


def audits(engine) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).order_by(AuditEntry.id)))


# --- Slack payloads ----------------------------------------------------------------------------


def card_of(bot, channel: str, number: str) -> dict:
    """The latest message in `channel` that is the card of `number`."""
    found = [m for m in bot.slack.messages(channel) if number in json.dumps(m, ensure_ascii=False)]
    assert found, f"no card of {number} in {channel}"
    return found[-1]


def _user(user: str) -> dict:
    return {"id": user, "team_id": TEAM["id"]}


def pick_from_menu(bot, user: str, message: dict, value: str, *, trigger_id: str | None = None):
    """Choose `value` in the case_menu select of a message."""
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "case_menu":
                values = [o["value"] for o in element["options"]]
                assert value in values, f"{value} not offered: {values}"
                action = {
                    "type": "static_select",
                    "action_id": "case_menu",
                    "block_id": block["block_id"],
                    "selected_option": {
                        "value": value,
                        "text": {"type": "plain_text", "text": "x"},
                    },
                    "action_ts": "1700000000.2",
                }
                return bot.signed.interaction(
                    {
                        "type": "block_actions",
                        "user": _user(user),
                        "trigger_id": trigger_id or bot.slack.issue_trigger_id(),
                        "container": {
                            "type": "message",
                            "channel_id": message["channel"],
                            "message_ts": message["ts"],
                        },
                        "channel": {"id": message["channel"]},
                        "message": {"ts": message["ts"], "blocks": message["blocks"]},
                        "response_url": "http://127.0.0.1:9/unused",
                        "actions": [action],
                    }
                )
    raise AssertionError("no case_menu in the message")


def menu_values(message: dict) -> list[str]:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "case_menu":
                return [o["value"] for o in element["options"]]
    return []


def click_in_view(bot, user: str, view: dict, action_id: str, *, value: str | None = None):
    """Click a button (or choose in a select) inside a modal or Home view."""
    for block in view["blocks"]:
        elements = block.get("elements", [])
        if block.get("accessory"):
            elements = [*elements, block["accessory"]]
        for element in elements:
            if element.get("action_id") != action_id:
                continue
            if value is not None and element.get("type") == "button" and element["value"] != value:
                continue
            if element.get("type") == "static_select":
                action = {
                    "type": "static_select",
                    "action_id": action_id,
                    "block_id": block.get("block_id", ""),
                    "selected_option": {"value": value},
                }
            else:
                action = {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block.get("block_id", ""),
                    "value": element.get("value"),
                }
            return bot.signed.interaction(
                {
                    "type": "block_actions",
                    "user": _user(user),
                    "trigger_id": bot.slack.issue_trigger_id(),
                    "container": {"type": "view", "view_id": view["id"]},
                    "view": view,
                    "actions": [action],
                }
            )
    raise AssertionError(f"no {action_id} ({value}) in the view")


def state_of_view(view: dict, values: dict) -> dict:
    """Slack's view.state.values for {block_id: value}, by element type (datepicker too)."""
    state: dict = {}
    for block in view["blocks"]:
        if block.get("type") != "input" or block["block_id"] not in values:
            continue
        element = block["element"]
        value = values[block["block_id"]]
        kind = element["type"]
        if kind == "plain_text_input":
            entry = {"type": kind, "value": value}
        elif kind in ("static_select", "radio_buttons"):
            entry = {"type": kind, "selected_option": None if value is None else {"value": value}}
        elif kind == "multi_static_select":
            entry = {"type": kind, "selected_options": [{"value": v} for v in value]}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": value}
        else:
            raise AssertionError(f"unsupported element {kind}")
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def home_hash(bot, user: str) -> str | None:
    view = bot.slack.home_views(user)
    return view["hash"] if view else None


def wait_home_change(bot, user: str, previous: str | None) -> dict:
    """The user's Home view once it has been published again (after `previous`)."""
    return bot.slack.wait_for(
        lambda: (v := bot.slack.home_views(user)) is not None and v["hash"] != previous and v
    )


def submit(bot, user: str, view: dict, values: dict) -> dict:
    """Submit a modal as `user`; the bot's answer (response_action …) as a dict.

    After a step is done the bot refreshes the user's Home tab; this waits for it, so no
    listener is still at work when the test ends."""
    home = home_hash(bot, user)
    updates = len(bot.slack.calls_to("views.update"))
    view = {**view, "state": {"values": state_of_view(view, values)}}
    answer = bot.signed.interaction(
        {"type": "view_submission", "user": _user(user), "trigger_id": "unused", "view": view}
    )
    assert answer.status == 200, answer.text
    body = settled(bot.slack, view["id"], answer.json(), updates)
    done = (body.get("view") or {}).get("title", {}).get("text") == "完了しました"
    if done:
        wait_home_change(bot, user, home)
    return body


def opened_after(bot, before: int) -> dict:
    """The first modal opened after `before` modals were open."""
    return bot.slack.wait_for(lambda: bot.slack.views_opened()[before:])[0]


def answered(bot, user: str, before: int = 0) -> str:
    """The newest ephemeral text for `user` after `before` earlier ones."""
    return bot.slack.wait_for(lambda: bot.slack.ephemerals(user=user)[before:])[-1]["text"]


def view_text(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False)
