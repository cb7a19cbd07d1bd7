"""Durable reminders and the dispatcher, with an injected clock (no sleeping).

Calendar-driven delivery, move/cancel with the subject, claims and leases, failures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from handlers.common.texts import t
from models.base.db import transaction
from models.org.orgfile import OrgFileError, parse
from models.org.tables import Agency
from models.queues import lease
from models.queues import reminders as store
from models.queues.reminder_settings import parse_settings
from models.queues.tables import Notice, Recipient, Reminder, ReminderState, Subject, SubjectKind
from reminders import dispatcher
from reminders.calendar import TOKYO
from reminders.dispatcher import dispatch_due
from reminders.rules import RULES, Rule
from reminders.schedule import cancel_reminders, move_reminders, schedule_reminder


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


MEETING = Subject(SubjectKind.meeting, 7)
OTHER_MEETING = Subject(SubjectKind.meeting, 8)


def schedule(engine, *, due: datetime, key="m7:eve", subject=MEETING, urgent=False, **kw):
    with transaction(engine) as session:
        return schedule_reminder(
            session,
            key=key,
            subject=subject,
            rule=kw.pop("rule", "follow_up"),
            recipient=kw.pop("recipient", Recipient.channel("C0COORD")),
            due_at=due,
            at=kw.pop("at", jst("2026-11-27 10:00")),
            urgent=urgent,
            payload={"topic": "meeting"},
            **kw,
        )


def reminder(engine, reminder_id: int) -> Reminder:
    with Session(engine) as s:
        return s.get(Reminder, reminder_id)


def notices(engine) -> list[Notice]:
    with Session(engine) as s:
        return list(s.exec(select(Notice).order_by(Notice.id)))


# --- the business calendar decides when ---------------------------------------------------------


def test_a_reminder_due_on_saturday_goes_out_on_monday_at_opening(org):
    r = schedule(org, due=jst("2026-11-28 10:00"))  # Saturday
    assert r.deliver_at == jst("2026-11-30 08:30")
    assert dispatch_due(org, now=jst("2026-11-28 10:00")).sent == []
    assert dispatch_due(org, now=jst("2026-11-30 08:29")).sent == []
    result = dispatch_due(org, now=jst("2026-11-30 08:30"))
    assert result.sent == [r.id] and result.notices == 1
    [notice] = notices(org)
    assert notice.key == f"reminder:{r.id}:C0COORD" and notice.target == "C0COORD"
    assert notice.due_at == jst("2026-11-30 08:30")  # on time: not 遅延
    assert not reminder(org, r.id).late


def test_an_urgent_reminder_is_not_deferred(org):
    r = schedule(org, due=jst("2026-11-28 22:00"), urgent=True)  # Saturday night
    assert r.deliver_at == jst("2026-11-28 22:00")
    assert dispatch_due(org, now=jst("2026-11-28 22:00")).sent == [r.id]


def test_after_closing_time_it_waits_for_the_next_morning(org):
    r = schedule(org, due=jst("2026-11-27 17:30"))  # Friday after 17:15
    assert r.deliver_at == jst("2026-11-30 08:30")


def test_year_end_closing_holds_reminders_until_january_4th(org):
    r = schedule(org, due=jst("2026-12-28 18:00"))
    assert r.deliver_at == jst("2027-01-04 08:30")  # 12/29–1/3 closed, 1/4 is a Monday
    assert dispatch_due(org, now=jst("2027-01-02 09:00")).sent == []
    assert dispatch_due(org, now=jst("2027-01-04 08:30")).sent == [r.id]


def test_a_closed_day_added_after_scheduling_is_respected(org):
    r = schedule(org, due=jst("2026-12-01 09:00"))  # Tuesday
    with transaction(org) as session:  # the town closes that day after all
        from models.org.tables import OrgSetting

        row = session.get(OrgSetting, "closed_days")
        row.value = ["2026-12-01"]
        session.add(row)
    result = dispatch_due(org, now=jst("2026-12-01 09:00"))
    assert result.deferred == [r.id] and result.sent == []
    row = reminder(org, r.id)
    assert row.state == "pending" and row.next_attempt_at == jst("2026-12-02 08:30")
    assert row.attempts == 0  # waiting is not a failed attempt
    assert dispatch_due(org, now=jst("2026-12-02 08:30")).sent == [r.id]


def test_overdue_from_an_outage_waits_for_office_hours_unless_urgent(org):
    normal = schedule(org, due=jst("2026-11-27 16:00"), key="a")
    urgent = schedule(org, due=jst("2026-11-27 16:00"), key="b", urgent=True)
    result = dispatch_due(org, now=jst("2026-11-28 11:00"))  # back up on Saturday
    assert result.sent == [urgent.id] and result.deferred == [normal.id]
    assert reminder(org, urgent.id).late
    result = dispatch_due(org, now=jst("2026-11-30 08:30"))
    assert result.sent == [normal.id]
    assert reminder(org, normal.id).late  # said 遅延: it was due on Friday


def test_a_tick_just_after_closing_still_sends_what_fell_due_before_it(org):
    r = schedule(org, due=jst("2026-11-27 17:14"))
    assert dispatch_due(org, now=jst("2026-11-27 17:15:20")).sent == [r.id]
    assert not reminder(org, r.id).late


# --- moving and cancelling with the subject ---------------------------------------------------


def test_moving_a_meeting_moves_all_its_pending_reminders(org):
    eve = schedule(org, due=jst("2026-12-07 09:00"), key="m7:eve")
    hour = schedule(org, due=jst("2026-12-08 12:30"), key="m7:hour")
    other = schedule(org, due=jst("2026-12-07 09:00"), key="m8:eve", subject=OTHER_MEETING)
    with transaction(org) as session:
        moved = move_reminders(
            session, subject=MEETING, by=timedelta(days=5), at=jst("2026-11-27 11:00")
        )
    assert {m.id for m in moved} == {eve.id, hour.id}
    assert reminder(org, eve.id).due_at == jst("2026-12-12 09:00")  # a Saturday …
    assert reminder(org, eve.id).deliver_at == jst("2026-12-14 08:30")  # … so Monday opening
    assert reminder(org, hour.id).deliver_at == jst("2026-12-14 08:30")  # Sunday → Monday
    assert reminder(org, other.id).due_at == jst("2026-12-07 09:00")
    assert dispatch_due(org, now=jst("2026-12-07 09:00")).sent == [other.id]


def test_moving_to_a_time_and_by_one_rule_only(org):
    eve = schedule(org, due=jst("2026-12-07 09:00"), key="m7:eve")
    other_rule = schedule(org, due=jst("2026-12-07 09:00"), key="m7:x", rule="memo_ack")
    with transaction(org) as session:
        move_reminders(
            session,
            subject=MEETING,
            to=jst("2026-12-09 10:00"),
            rule="follow_up",
            at=jst("2026-11-27 11:00"),
        )
    assert reminder(org, eve.id).deliver_at == jst("2026-12-09 10:00")
    assert reminder(org, other_rule.id).due_at == jst("2026-12-07 09:00")


def test_move_needs_exactly_one_of_by_and_to(org):
    with transaction(org) as session, pytest.raises(ValueError):
        move_reminders(session, subject=MEETING, at=jst("2026-11-27 11:00"))


def test_cancelling_a_meeting_cancels_its_reminders_and_nothing_is_sent(org):
    eve = schedule(org, due=jst("2026-12-07 09:00"), key="m7:eve")
    other = schedule(org, due=jst("2026-12-07 09:00"), key="m8:eve", subject=OTHER_MEETING)
    with transaction(org) as session:
        assert cancel_reminders(session, subject=MEETING, at=jst("2026-11-27 11:00")) == 1
    assert reminder(org, eve.id).state == "cancelled"
    assert dispatch_due(org, now=jst("2026-12-07 09:00")).sent == [other.id]
    assert [n.key for n in notices(org)] == [f"reminder:{other.id}:C0COORD"]


def test_a_reminder_cancelled_while_a_dispatcher_holds_it_is_not_sent(org):
    r = schedule(org, due=jst("2026-11-27 10:00"))
    now = jst("2026-11-27 10:00")
    [claimed] = store.claim_due(org, now=now, worker="w1")
    with transaction(org) as session:
        cancel_reminders(session, subject=MEETING, at=now)
    result = dispatcher.DispatchResult()
    dispatcher._dispatch_one(org, claimed.id, worker="w1", now=now, result=result)
    assert reminder(org, r.id).state == "cancelled" and notices(org) == []


def test_scheduling_twice_with_one_key_keeps_one_reminder(org):
    first = schedule(org, due=jst("2026-12-07 09:00"))
    again = schedule(org, due=jst("2026-12-08 09:00"))
    assert again.id == first.id and again.due_at == jst("2026-12-07 09:00")


def test_an_unknown_rule_cannot_be_scheduled(org):
    with pytest.raises(ValueError, match="unknown reminder rule"):
        schedule(org, due=jst("2026-12-07 09:00"), rule="no_such_rule")


def test_naive_times_are_refused(org):
    with pytest.raises(ValueError):
        schedule(org, due=datetime(2026, 12, 7, 9, 0))


# --- claims, leases, retries --------------------------------------------------------------------


def age_claims(engine) -> None:
    """As if the lease had passed on the real clock: the claiming process is long dead."""
    with transaction(engine) as session:
        session.execute(
            update(Reminder)
            .where(Reminder.claimed_at.is_not(None))
            .values(claimed_at=lease.wall_now() - store.LEASE - timedelta(seconds=1))
        )


def test_a_claim_of_a_dead_process_is_taken_back_after_the_lease_and_sent_once(org):
    r = schedule(org, due=jst("2026-11-27 10:00"))
    now = jst("2026-11-27 10:00")
    store.claim_due(org, now=now, worker="dead-process")  # …which then died
    # A later frozen clock (send-due --at) does not expire it: only the real clock does.
    later = max(now, lease.wall_now()) + timedelta(days=1)  # past the lease on either clock
    assert dispatch_due(org, now=later).sent == []  # lease still held
    age_claims(org)
    result = dispatch_due(org, now=now + timedelta(minutes=1))
    assert result.sent == [r.id]
    assert dispatch_due(org, now=now + timedelta(hours=1)).sent == []
    assert len(notices(org)) == 1


def test_two_dispatchers_never_claim_the_same_reminder(org):
    for i in range(30):
        schedule(
            org, due=jst("2026-11-27 10:00"), key=f"k{i}", subject=Subject(SubjectKind.task, i)
        )
    now = jst("2026-11-27 10:00")
    a = store.claim_due(org, now=now, worker="a", limit=20)
    b = store.claim_due(org, now=now, worker="b", limit=20)
    ids_a, ids_b = {r.id for r in a}, {r.id for r in b}
    assert len(ids_a) == 20 and len(ids_b) == 10 and not ids_a & ids_b


def test_the_outbox_key_keeps_a_redispatched_reminder_single(org):
    r = schedule(org, due=jst("2026-11-27 10:00"))
    now = jst("2026-11-27 10:00")
    dispatch_due(org, now=now)
    with transaction(org) as session:  # as if a stale worker re-dispatched it
        row = session.get(Reminder, r.id)
        row.state, row.claimed_by, row.claimed_at = "claimed", "stale", now
        session.add(row)
    dispatcher._dispatch_one(org, r.id, worker="stale", now=now, result=dispatcher.DispatchResult())
    assert len(notices(org)) == 1


@pytest.fixture
def exploding_rule():
    def explode(session, reminder):
        raise RuntimeError("試験 secret detail")

    RULES["test_explodes"] = Rule("test_explodes", applies=explode)
    yield "test_explodes"
    del RULES["test_explodes"]


def test_a_failing_reminder_is_retried_with_backoff_then_fails_and_alerts(
    org, exploding_rule, caplog
):
    r = schedule(org, due=jst("2026-11-27 10:00"), rule=exploding_rule)
    now = jst("2026-11-27 10:00")
    result = dispatch_due(org, now=now)
    assert result.retried == [r.id]
    row = reminder(org, r.id)
    assert row.state == "pending" and row.attempts == 1 and row.last_error == "RuntimeError"
    assert row.next_attempt_at == now + timedelta(seconds=10)
    for _ in range(store.MAX_ATTEMPTS):
        now += timedelta(hours=1)
        dispatch_due(org, now=now)
    row = reminder(org, r.id)
    assert row.state == "failed" and row.attempts == store.MAX_ATTEMPTS
    [alert] = notices(org)
    assert (alert.kind, alert.target) == ("delivery_failed", "C0ADMIN")
    assert "secret" not in caplog.text and "試験" not in caplog.text


def test_an_unknown_rule_fails_at_once_and_alerts(org):
    with transaction(org) as session:  # e.g. a rule removed in a later version
        store.schedule(
            session,
            key="gone",
            subject=MEETING,
            rule="removed_rule",
            recipient=Recipient.channel("C0COORD"),
            due_at=jst("2026-11-27 10:00"),
            deliver_at=jst("2026-11-27 10:00"),
            at=jst("2026-11-27 10:00"),
        )
    result = dispatch_due(org, now=jst("2026-11-27 10:00"))
    assert len(result.failed) == 1
    assert [n.kind for n in notices(org)] == ["delivery_failed"]


def test_a_team_without_channel_gets_direct_messages(org):
    with Session(org) as s:
        shogai = s.exec(select(Agency).where(Agency.key == "shogai")).one()
    r = schedule(org, due=jst("2026-11-27 10:00"), recipient=Recipient.agency(shogai.id))
    dispatch_due(org, now=jst("2026-11-27 10:00"))
    assert sorted(n.target for n in notices(org)) == ["U0SHOGAI1", "U0SHOGAI2"]
    assert {n.payload["reminder_id"] for n in notices(org)} == {r.id}


def test_a_reminder_for_a_member_who_left_goes_to_the_coordinator(org):
    with transaction(org) as session:
        from models.org.tables import Member

        member = session.exec(select(Member).where(Member.slack_id == "U0WIN1")).one()
        member.active = False
        session.add(member)
    schedule(org, due=jst("2026-11-27 10:00"), recipient=Recipient.member(member.id))
    dispatch_due(org, now=jst("2026-11-27 10:00"))
    assert [n.target for n in notices(org)] == ["C0COORD"]


def test_the_dispatcher_and_the_delivery_loop_agree_on_lateness():
    from bot.delivery import LATE_AFTER

    assert dispatcher.LATE_AFTER == LATE_AFTER


# --- configuration --------------------------------------------------------------------------------


def test_default_and_configured_acknowledgement_deadlines():
    default = parse_settings({})
    assert default.ack["urgent"] == ("hours", 1)
    assert default.ack["three_days"] == ("days", 1)
    assert default.ack["normal"] == ("days", 2)
    assert default.escalate and default.repeat_escalation
    custom = parse_settings({"ack_normal": "3d", "ack_urgent": "2h", "escalate": False})
    assert custom.ack["normal"] == ("days", 3) and custom.ack["urgent"] == ("hours", 2)
    assert not custom.escalate


ORG_HEAD = """
[town]
name = "辰野町"
[channels]
coordinator = "C0COORD"
[[agencies]]
key = "suishin"
name = "重層推進室"
kind = "coordinator"
"""


@pytest.mark.parametrize(
    "section, code",
    [
        ('ack_normal = "2 days"', "reminders_span_invalid"),
        ('ack_urgent = "0h"', "reminders_span_invalid"),
        ("escalate = 1", "reminders_bool_invalid"),
        ('ack_sometimes = "1d"', "key_unknown_list"),
    ],
)
def test_a_bad_reminders_section_is_refused_with_its_line(section, code):
    text = ORG_HEAD + "\n[reminders]\n" + section + "\n"
    with pytest.raises(OrgFileError) as err:
        parse(text)
    [problem] = err.value.problems
    assert problem.code == code
    assert problem.line == text.splitlines().index(section) + 1
    assert t("orgfile." + code, **problem.params)  # the CLI shows it (once "orgfile.orgfile.…")


def test_the_reminders_section_is_loaded_and_used(org):
    from models.org.orgfile import load
    from reminders.deadlines import reminder_settings

    data = parse(ORG_HEAD + '\n[reminders]\nack_normal = "3d"\nrepeat_escalation = false\n')
    with transaction(org) as session:
        load(session, data)
    with Session(org) as session:
        settings = reminder_settings(session)
    assert settings.ack["normal"] == ("days", 3) and not settings.repeat_escalation


def test_reminder_rows_hold_no_personal_data():
    personal = {"person_name", "person_kana", "contact", "household", "narrative", "district"}
    assert not personal & set(Reminder.model_fields)
    assert ReminderState.sent == "sent"


def test_a_reminder_whose_claims_keep_dying_is_given_up_and_reported(org):
    r = schedule(org, due=jst("2026-11-27 10:00"))
    now = jst("2026-11-27 10:00")
    for i in range(store.MAX_ATTEMPTS):  # each time, the process dies holding it
        assert store.claim_due(org, now=now, worker=f"dies:{i}")
        age_claims(org)
    result = dispatch_due(org, now=now)
    assert result.failed == [r.id] and reminder(org, r.id).last_error == "too_many_attempts"
    assert [n.kind for n in notices(org)] == ["delivery_failed"]
