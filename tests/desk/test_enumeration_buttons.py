"""No enumeration, through forged buttons, selects, forms and commands: anyone in a channel can
click, and a signed request can carry any value. For every id a person can send (a case, a
meeting, an agenda case, an outreach target, a task, a plan, a reminder), one that does not
exist and one they may not see get the same words and leave the same trace (one refused audit
row each)."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from handlers.common import forms, ids
from models.base.db import transaction
from models.meetings.schedule import schedule
from models.meetings.tables import MeetingKind
from models.ops.audit import AuditEntry
from models.org.tables import Member
from sandbox.standin.signed import TEAM
from tests.conftest import START
from tests.outreach.test_outreach_domain import new_target
from tests.support.desk import new_case
from tests.support.meetings import command

MISSING = 999_999
_CLICKS = itertools.count(1_700_000_000)


def refusals(engine, user: str) -> list[tuple[str, bool]]:
    with Session(engine) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.actor_slack_id == user))
        return [(a.action, a.allowed) for a in rows]


def forge(bot, user: str, action_id: str, value: str, *, select_: bool = False) -> str:
    """A click on a channel message with this value; what the person is told."""
    seen = len(bot.slack.ephemerals(user)) + len(bot.slack.messages(f"D{user}"))
    opened = len(bot.slack.views_opened())
    action = {"type": "button", "action_id": action_id, "block_id": "b", "value": value}
    if select_:
        option = {"value": value, "text": {"type": "plain_text", "text": "x"}}
        action = {"type": "static_select", "action_id": action_id, "selected_option": option}
    answer = bot.signed.interaction(
        {
            "type": "block_actions",
            "user": {"id": user, "team_id": TEAM["id"]},
            "trigger_id": bot.slack.issue_trigger_id(),
            "container": {"type": "message", "channel_id": "C0COORD", "message_ts": "1.000100"},
            "channel": {"id": "C0COORD"},
            "message": {"ts": "1.000100", "blocks": []},
            # Its own action_ts: a click is stored once per action_ts (Slack's retries)
            "actions": [{**action, "block_id": "b", "action_ts": f"{next(_CLICKS)}.1"}],
        }
    )
    assert answer.status == 200

    def told():
        bot.deliver()  # a click on a channel card is done by the worker
        assert bot.slack.views_opened()[opened:] == []  # nothing opened for either
        said = bot.slack.ephemerals(user) + bot.slack.messages(f"D{user}")
        return said[seen:] and said[-1]["text"]

    return bot.slack.wait_for(told)


def same_answer(bot, user: str, ask, existing: str, missing: str) -> str:
    """Asks for the existing id, then the missing one: the same words (no refusal names the id
    it was asked for), one refusal row each."""
    before = len(refusals(bot.rt.engine, user))
    foreign = ask(existing)
    after_foreign = refusals(bot.rt.engine, user)[before:]
    absent = ask(missing)
    after_missing = refusals(bot.rt.engine, user)[before + len(after_foreign) :]
    assert foreign == absent
    assert len(after_foreign) == len(after_missing) == 1
    assert after_foreign[0][1] is False and after_missing[0][1] is False
    return foreign


def a_meeting(engine, *, attendees=("U0COORD", "U0WIN1"), cases=()) -> int:
    with transaction(engine) as s:
        people = [s.exec(select(Member).where(Member.slack_id == u)).one() for u in attendees]
        coordinator = s.exec(select(Member).where(Member.slack_id == "U0COORD")).one()
        meeting = schedule(
            s,
            kind=MeetingKind.marugoto,
            starts_at=START + timedelta(days=3),
            place="会議室",
            member_ids=[m.id for m in people],
            agency_ids=[],
            case_ids=list(cases),
            created_by=coordinator,
            at=START,
            has_consent=lambda *_: True,
        )
        return meeting.id


def foreign_case(bot) -> int:
    """A case U0PARTNER1 has nothing to do with (another agency sent it)."""
    return new_case(bot.rt.engine, START, referrer="U0SUPPORT1", concerns=["kosodate"])


def test_the_case_detail_button(bot):
    case = foreign_case(bot)
    said = same_answer(
        bot,
        "U0PARTNER1",
        lambda v: forge(bot, "U0PARTNER1", ids.ACTION_CASE_DETAIL, v),
        str(case),
        str(MISSING),
    )
    assert "見つからないか" in said


@pytest.mark.parametrize("step", ["set_lead", "reroute", "close", "start_assessment"])
def test_a_step_chosen_from_the_case_menu(bot, step):
    case = foreign_case(bot)
    same_answer(
        bot,
        "U0PARTNER1",
        lambda v: forge(bot, "U0PARTNER1", ids.ACTION_CASE_MENU, f"{step}:{v}", select_=True),
        str(case),
        str(MISSING),
    )


def _submit_step(bot, user: str, case_id: int, step: str) -> str:
    view = {
        "id": f"V0FORGED{case_id}",
        "type": "modal",
        "callback_id": ids.VIEW_CASE_STEP,
        "private_metadata": forms.metadata(case_id=case_id, step=step),
        "blocks": [],
        "state": {"values": {}},
    }
    answer = bot.signed.interaction(
        {"type": "view_submission", "user": {"id": user, "team_id": TEAM["id"]}, "view": view}
    )
    assert answer.status == 200
    return json.dumps(answer.json(), ensure_ascii=False)


@pytest.mark.parametrize("step", ["set_lead", "reroute"])
def test_a_forged_step_form(bot, step):
    case = foreign_case(bot)
    same_answer(
        bot,
        "U0PARTNER1",
        lambda v: _submit_step(bot, "U0PARTNER1", int(v), step),
        str(case),
        str(MISSING),
    )


def test_the_meeting_command_and_button(bot):
    meeting = a_meeting(bot.rt.engine)
    said = same_answer(
        bot,
        "U0PARTNER1",
        lambda v: command(bot, "U0PARTNER1", f"meeting {v}")["reply"]["text"],
        str(meeting),
        str(MISSING),
    )
    assert "見つからないか" in said
    for action in (ids.ACTION_MEETING_OPEN, ids.ACTION_MEETING_AGENDA, ids.ACTION_MEETING_MINUTES):
        same_answer(
            bot,
            "U0PARTNER1",
            lambda v, a=action: forge(bot, "U0PARTNER1", a, v),
            str(meeting),
            str(MISSING),
        )


def test_a_case_not_on_the_agenda(bot):
    """An attendee names a case that is not on the meeting's agenda, or none at all."""
    case = foreign_case(bot)
    meeting = a_meeting(bot.rt.engine)
    same_answer(
        bot,
        "U0WIN1",
        lambda v: forge(bot, "U0WIN1", ids.ACTION_MEETING_CASE, f"{meeting}:{v}"),
        str(case),
        str(MISSING),
    )


@pytest.mark.parametrize("action", [ids.ACTION_OUTREACH_OPEN, ids.ACTION_OUTREACH_CLOSE])
def test_an_outreach_target(bot, action):
    with transaction(bot.rt.engine) as s:
        target = new_target(s).id  # assigned to 高齢者相談支援センター, not to こども家庭センター
    same_answer(
        bot,
        "U0KODOMO1",
        lambda v: forge(bot, "U0KODOMO1", action, v),
        str(target),
        str(MISSING),
    )


def test_a_huge_or_odd_id_is_refused_like_a_missing_one(bot):
    """Beyond the database's integer (PostgreSQL would fail on it) or not a number at all."""
    case = foreign_case(bot)
    for odd in ("99999999999999999999", "-1", "0", "1e3", "²"):
        same_answer(
            bot,
            "U0PARTNER1",
            lambda v: forge(bot, "U0PARTNER1", ids.ACTION_CASE_DETAIL, v),
            str(case),
            odd,
        )
