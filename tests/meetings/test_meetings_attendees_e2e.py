"""Who attends, end to end (signed requests, the strict Slack stand-in): a たつのまるごと会議 only
with attendees whose agency the person's consent covers (DESIGN.md legal rule 2), and changing
the attendees of a scheduled meeting under the same rules as scheduling it."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models.cases.lifecycle import CaseState
from models.meetings.tables import MeetingAttendee
from tests.conftest import START
from tests.intake.test_intake_e2e import PERSONAL
from tests.meetings.test_meetings_e2e import nothing_stored, values
from tests.support.desk import agency, bring_to, new_case
from tests.support.meetings import (
    COORD,
    audits,
    click_view,
    command,
    dms,
    has_button,
    jst,
    meetings,
    new_view,
    reminders,
    submit,
    text_of,
)


@pytest.fixture
def cases(bot):
    """R8-0001 in さぽネット (no consent); R8-0002 in たつのまるごと会議 (consent for 高齢 only)."""
    engine = bot.rt.engine
    sapo = new_case(engine, START)
    bring_to(engine, sapo, CaseState.saponet, START)
    maru = new_case(engine, START)
    bring_to(engine, maru, CaseState.marugoto, START)
    bot.deliver()
    return {"saponet": sapo, "marugoto": maru}


def schedule(bot, kind: str, members: list[str], case_ids: list[int]) -> int:
    view = command(bot, COORD, f"meeting {kind}")
    answer = submit(bot, COORD, view, values(members=members, cases=case_ids))
    assert answer["response_action"] == "update", answer
    bot.deliver()
    return meetings(bot.rt.engine)[-1].id


def attendee_ids(engine, meeting_id: int) -> set[int]:
    with Session(engine) as s:
        rows = s.exec(select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting_id))
        return {r.member_id for r in rows}


def pending(engine) -> list[tuple[str, str, str]]:
    return sorted(
        (r.rule, r.recipient, r.key)
        for r in reminders(engine, state="pending")
        if r.rule.startswith("meeting")
    )


def attendees_form(bot, meeting_id: int, user: str = COORD) -> dict:
    view = command(bot, COORD, f"meeting {meeting_id}")
    assert has_button(view["blocks"], "meeting_attendees", str(meeting_id))
    return new_view(bot, click_view(bot, user, view, "meeting_attendees", str(meeting_id)))


def member_id(engine, slack_id: str) -> int:
    from models.org.tables import Member

    with Session(engine) as s:
        return s.exec(select(Member).where(Member.slack_id == slack_id)).one().id


# --- 1. たつのまるごと会議: attendees only from agencies the consent covers ----------------------


def test_marugoto_refuses_an_agency_the_consent_does_not_cover(bot, cases):
    view = command(bot, COORD, "meeting まるごと")
    answer = submit(
        bot, COORD, view, values(members=[COORD, "U0WIN1", "U0KODOMO1"], cases=[cases["marugoto"]])
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"members"}
    message = answer["errors"]["members"]
    assert "こども家庭センター（R8-0002）" in message  # the agency and the receipt number
    assert "高齢者相談支援センター" not in message  # covered: not named
    assert "外す" in message and "さぽネット会議" in message  # what to do instead
    assert "試験 こども" not in message
    for value in PERSONAL:
        assert value not in message
    nothing_stored(bot.rt.engine)
    # the same people may meet on the case at a さぽネット会議 only if bound by 守秘義務;
    # dropping the uncovered agency makes the たつのまるごと会議 lawful
    answer = submit(bot, COORD, view, values(members=[COORD, "U0WIN1"], cases=[cases["marugoto"]]))
    assert answer["response_action"] == "update", answer


def test_marugoto_refuses_a_whole_agency_outside_the_consent_on_the_agencies_field(bot, cases):
    with Session(bot.rt.engine) as s:
        shogai = agency(s, "shogai")
    view = command(bot, COORD, "meeting まるごと")
    answer = submit(
        bot,
        COORD,
        view,
        values(members=[COORD], agencies=[shogai.id], cases=[cases["marugoto"]]),
    )
    assert set(answer["errors"]) == {"agencies"}
    assert "障がい福祉係（R8-0002）" in answer["errors"]["agencies"]
    nothing_stored(bot.rt.engine)


# --- 2. changing the attendees of a scheduled meeting --------------------------------------------


def test_adding_and_removing_attendees_invites_tells_and_moves_reminders(bot, cases, clock):
    engine = bot.rt.engine
    meeting_id = schedule(bot, "まるごと", [COORD, "U0WIN1"], [cases["marugoto"]])
    win, coord = member_id(engine, "U0WIN1"), member_id(engine, COORD)
    assert {r for _, r, _ in pending(engine)} == {str(win), str(coord)}
    # U0WIN1 is taken off; nobody else changes
    form = attendees_form(bot, meeting_id)
    assert form["callback_id"] == "meeting_attendees"
    answer = submit(bot, COORD, form, {"members": [COORD]})
    assert answer["response_action"] == "update", answer
    assert "外れた方1名" in text_of(answer["view"])
    bot.deliver()
    assert attendee_ids(engine, meeting_id) == {coord}
    assert {r for _, r, _ in pending(engine)} == {str(coord)}
    [off] = [m for m in dms(bot, "U0WIN1") if "出席者から外れました" in m["text"]]
    assert not has_button(off["blocks"], "meeting_agenda")
    for value in PERSONAL:
        assert value not in text_of(off)
    # and invited again: a new invitation and the reminders still ahead
    form = attendees_form(bot, meeting_id)
    answer = submit(bot, COORD, form, {"members": [COORD, "U0WIN1"]})
    assert answer["response_action"] == "update", answer
    bot.deliver()
    invites = [m for m in dms(bot, "U0WIN1") if "のご案内" in m["text"]]
    assert len(invites) == 2 and has_button(invites[-1]["blocks"], "meeting_agenda")
    rules = sorted(rule for rule, r, _ in pending(engine) if r == str(win))
    assert rules == ["meeting_eve", "meeting_soon"]
    # the reminders go to the attendees now on the list, once each
    clock.at = jst("2026-12-04 08:30")
    assert len(bot.rt.scheduler.tick().sent) == 2
    audit = [a for a in audits(engine, "manage_meeting") if "attendees" in (a.detail or "")]
    assert len(audit) == 2 and all(a.allowed for a in audit)


def test_a_new_attendee_outside_the_consent_is_refused_and_nothing_changes(bot, cases):
    engine = bot.rt.engine
    meeting_id = schedule(bot, "まるごと", [COORD, "U0WIN1"], [cases["marugoto"]])
    before_attendees, before_reminders = attendee_ids(engine, meeting_id), pending(engine)
    form = attendees_form(bot, meeting_id)
    answer = submit(bot, COORD, form, {"members": [COORD, "U0WIN1", "U0KODOMO1"]})
    assert set(answer["errors"]) == {"members"}
    assert "こども家庭センター（R8-0002）" in answer["errors"]["members"]
    assert "さぽネット会議" in answer["errors"]["members"]
    bot.deliver()
    assert attendee_ids(engine, meeting_id) == before_attendees
    assert pending(engine) == before_reminders
    assert not any("のご案内" in m["text"] for m in dms(bot, "U0KODOMO1"))


def test_saponet_attendees_must_be_bound_by_confidentiality_when_changed_too(bot, cases):
    engine = bot.rt.engine
    meeting_id = schedule(bot, "さぽネット", [COORD, "U0WIN1"], [cases["saponet"]])
    before = attendee_ids(engine, meeting_id), pending(engine)
    form = attendees_form(bot, meeting_id)
    answer = submit(bot, COORD, form, {"members": [COORD, "U0WIN1", "U0FUKUSHI1"]})
    assert set(answer["errors"]) == {"members"}
    assert "試験 福祉さん" in answer["errors"]["members"]
    assert "守秘義務" in answer["errors"]["members"]
    with Session(engine) as s:
        fukushi = agency(s, "shakaifukushi")
    answer = submit(bot, COORD, form, {"members": [COORD], "agencies": [fukushi.id]})
    assert set(answer["errors"]) == {"agencies"}
    assert (attendee_ids(engine, meeting_id), pending(engine)) == before


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ([COORD, "U0WIN1"], "前と同じ"),  # nothing changed
        ([], "1名以上"),  # nobody left
        ([COORD, "U0STRANGER"], "名簿"),  # not in the organisation file
    ],
)
def test_bad_attendee_lists_are_refused_with_a_reason(bot, cases, members, words):
    engine = bot.rt.engine
    meeting_id = schedule(bot, "さぽネット", [COORD, "U0WIN1"], [cases["saponet"]])
    before = attendee_ids(engine, meeting_id), pending(engine)
    answer = submit(bot, COORD, attendees_form(bot, meeting_id), {"members": members})
    assert answer["response_action"] == "errors"
    assert words in answer["errors"]["members"]
    assert (attendee_ids(engine, meeting_id), pending(engine)) == before


def test_only_the_coordinator_changes_attendees_and_only_before_the_meeting(bot, cases, clock):
    engine = bot.rt.engine
    meeting_id = schedule(bot, "さぽネット", [COORD, "U0WIN1"], [cases["saponet"]])
    form = attendees_form(bot, meeting_id)
    before = attendee_ids(engine, meeting_id), pending(engine)
    # a window forges the submission
    answer = submit(bot, "U0WIN1", form, {"members": ["U0WIN1"]})
    assert answer["response_action"] == "update"
    assert "重層推進室" in text_of(answer["view"])
    refusals = [a for a in audits(engine, "manage_meeting") if not a.allowed]
    assert refusals and refusals[-1].actor_slack_id == "U0WIN1"
    # the meeting has begun: the list stays as it was
    clock.at = jst("2026-12-07 10:05")
    answer = submit(bot, COORD, form, {"members": [COORD]})
    assert "始まっている" in text_of(answer)
    assert (attendee_ids(engine, meeting_id), pending(engine)) == before
