"""Outreach reminders scheduled for a moment already past: the first one is not 遅延.

A target registered at 10:00 with its first contact today has a reminder planned for today's
opening (08:30), already past when it is scheduled. It goes out at once, without the 遅延 note
that means "the bot was down"; a real outage afterwards still says 遅延.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from models.base.db import transaction
from models.org.tables import Agency, Member
from models.outreach.targets import TargetInput, create
from models.queues.tables import Reminder
from reminders.calendar import TOKYO
from reminders.outreach import OUTREACH_CONTACT, OUTREACH_OVERDUE, schedule_for
from tests.conftest import START

TODAY = date(2026, 11, 27)  # START is Friday 2026-11-27 10:00 JST
LATE_MARK = "遅延"


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def new_target(engine, *, first: date, at: datetime) -> int:
    """A target made through the domain with its reminders, as the registration form does."""
    with transaction(engine) as s:
        creator = s.exec(select(Member).where(Member.slack_id == "U0COORD")).one()
        houkatsu = s.exec(select(Agency).where(Agency.key == "houkatsu")).one()
        target = create(
            s,
            data=TargetInput(
                person={"name": "辰野 試験子", "contact": "0266-00-0000"},
                reason_kind="self_neglect",
                reason="試験の理由メモ",
                agency_ids=[houkatsu.id],
                cadence_days=14,
                first_contact_on=first,
            ),
            created_by=creator,
            at=at,
        )
        schedule_for(s, target, at=at)
        return target.id


def reminder(engine, target_id: int, rule: str) -> Reminder:
    with Session(engine) as s:
        return s.exec(
            select(Reminder).where(
                Reminder.subject_kind == "outreach",
                Reminder.subject_id == str(target_id),
                Reminder.rule == rule,
            )
        ).one()


def contact_messages(bot) -> list[str]:
    return [
        json.dumps(m, ensure_ascii=False)
        for m in bot.slack.messages("C0HOUKATSU")
        if "OT-" in m.get("text", "")
    ]


def test_a_first_contact_today_registered_after_the_opening_is_reminded_at_once_not_late(
    bot, clock
):
    assert clock() == START == jst("2026-11-27 10:00")
    target_id = new_target(bot.rt.engine, first=TODAY, at=clock())
    contact = reminder(bot.rt.engine, target_id, OUTREACH_CONTACT)
    assert contact.deliver_at == START  # not 08:30 of a morning already gone

    assert bot.rt.scheduler.tick().sent == [contact.id]
    bot.deliver()
    assert reminder(bot.rt.engine, target_id, OUTREACH_CONTACT).late is False
    [message] = contact_messages(bot)
    assert LATE_MARK not in message
    # The escalation still counts from the contact date: 3 business days after it.
    overdue = reminder(bot.rt.engine, target_id, OUTREACH_OVERDUE)
    assert overdue.deliver_at == jst("2026-12-02 08:30")


def test_an_outage_after_scheduling_still_says_late(bot, clock):
    target_id = new_target(bot.rt.engine, first=TODAY, at=clock())
    clock.advance(hours=1)  # the bot was down from 10:00 to 11:00
    contact = reminder(bot.rt.engine, target_id, OUTREACH_CONTACT)
    assert bot.rt.scheduler.tick().sent == [contact.id]
    bot.deliver()
    assert reminder(bot.rt.engine, target_id, OUTREACH_CONTACT).late is True
    [message] = contact_messages(bot)
    assert LATE_MARK in message


def test_registered_after_closing_for_today_goes_at_the_next_opening_not_late(bot, clock):
    clock.at = jst("2026-11-27 18:00")  # Friday evening: the office is closed
    target_id = new_target(bot.rt.engine, first=TODAY, at=clock())
    contact = reminder(bot.rt.engine, target_id, OUTREACH_CONTACT)
    assert contact.deliver_at == jst("2026-11-30 08:30")  # Monday's opening
    assert bot.rt.scheduler.tick().sent == []  # not tonight
    clock.at = jst("2026-11-30 08:30")
    assert bot.rt.scheduler.tick().sent == [contact.id]
    bot.deliver()
    assert reminder(bot.rt.engine, target_id, OUTREACH_CONTACT).late is False
    assert LATE_MARK not in contact_messages(bot)[0]


def test_a_contact_date_ahead_keeps_its_opening(bot, clock):
    target_id = new_target(bot.rt.engine, first=TODAY + timedelta(days=3), at=clock())
    contact = reminder(bot.rt.engine, target_id, OUTREACH_CONTACT)
    assert contact.deliver_at == jst("2026-11-30 08:30")
    assert bot.rt.scheduler.tick().sent == []
