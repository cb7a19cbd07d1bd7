"""Reminders end to end: memos through signed requests, the scheduler's tick with an injected
clock, messages out through the delivery loop to the strict Slack stand-in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from models.base.db import transaction
from models.cases.tables import Case
from models.ops.tables import AuditEntry
from models.org.tables import Agency
from models.queues import lease
from models.queues import reminders as store
from models.queues.tables import Notice, Recipient, Reminder, Subject, SubjectKind
from reminders.calendar import TOKYO
from reminders.schedule import schedule_reminder
from tests.conftest import make_bot
from tests.intake.test_intake_e2e import PERSONAL


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def tick(bot):
    """What the scheduler does every few seconds: dispatch due reminders (then deliver)."""
    return bot.rt.scheduler.tick()


def key_of(message: dict) -> str:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")


def reminder_messages(bot, channel: str | None = None) -> list[dict]:
    return [m for m in bot.slack.messages(channel) if key_of(m).startswith("reminder:")]


def reminders(bot) -> list[Reminder]:
    with Session(bot.rt.engine) as s:
        return list(s.exec(select(Reminder).order_by(Reminder.id)))


def by_rule(bot, rule: str) -> list[Reminder]:
    return [r for r in reminders(bot) if r.rule == rule]


def follow_up_of(bot, reminder_id: int) -> Reminder | None:
    with Session(bot.rt.engine) as s:
        return store.follow_up_of(s, reminder_id)


def action_ids(message: dict) -> list[str]:
    return [e.get("action_id") for b in message["blocks"] for e in b.get("elements", [])]


def click(bot, user: str, message: dict, action_id: str) -> str:
    """Click a button as `user` and return the ephemeral answer they see."""
    before = len(bot.slack.ephemerals(user))
    answer = bot.signed.click(user, message, action_id, trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200, answer.text
    return bot.answers(user, before)[0]["text"]


def no_personal_data(message: dict) -> None:
    dumped = json.dumps(message, ensure_ascii=False)
    for value in PERSONAL:
        assert value not in dumped


# --- the acknowledgement deadline -----------------------------------------------------------------


def test_memo_not_taken_reminds_the_team_then_escalates_until_taken(bot, clock):
    bot.send_memo("U0PARTNER1")  # 通常, Friday 11/27 10:00, to 高齢者相談支援センター
    bot.deliver()
    [ack] = by_rule(bot, "memo_ack")
    [escalation] = by_rule(bot, "memo_ack_escalation")
    assert ack.deliver_at == jst("2026-12-01 10:00")  # 2 business days: Mon, Tue
    assert escalation.deliver_at == jst("2026-12-03 10:00")  # the next deadline after that

    clock.at = jst("2026-12-01 09:59")
    assert tick(bot).sent == []
    clock.at = jst("2026-12-01 10:00")
    assert tick(bot).sent == [ack.id]
    bot.deliver()
    [reminder] = reminder_messages(bot, "C0HOUKATSU")
    assert "R8-0001" in reminder["text"] and "引き受け" in reminder["text"]
    assert {"case_detail", "case_acknowledge", "reminder_snooze_tomorrow"} <= set(
        action_ids(reminder)
    )
    assert "遅延" not in json.dumps(reminder, ensure_ascii=False)
    no_personal_data(reminder)

    clock.at = jst("2026-12-03 10:00")
    assert tick(bot).sent == [escalation.id]
    bot.deliver()
    [escalated] = reminder_messages(bot, "C0COORD")
    assert "R8-0001" in escalated["text"]
    assert "高齢者相談支援センター" in json.dumps(escalated["blocks"], ensure_ascii=False)
    no_personal_data(escalated)
    [again] = [r for r in by_rule(bot, "memo_ack_escalation") if r.state == "pending"]
    assert again.deliver_at == jst("2026-12-07 10:00")  # keeps asking every deadline

    assert "引き受けました" in click(bot, "U0COORD", escalated, "case_acknowledge")
    clock.at = jst("2026-12-07 10:00")
    result = tick(bot)
    assert result.sent == [] and result.cancelled == [again.id]
    bot.deliver()
    assert len(reminder_messages(bot)) == 2


def test_reminders_already_posted_lose_their_button_once_the_memo_is_taken(bot, clock):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    clock.at = jst("2026-12-03 10:00")  # past both deadlines: the team and the coordinator
    tick(bot)
    bot.deliver()
    posted = reminder_messages(bot)
    assert len(posted) == 2 and all("case_acknowledge" in action_ids(m) for m in posted)

    assert "引き受けました" in click(bot, "U0WIN1", posted[0], "case_acknowledge")
    bot.deliver()
    after = reminder_messages(bot)
    assert [m["ts"] for m in after] == [m["ts"] for m in posted]  # updated, not posted again
    for message in after:
        assert [a for a in action_ids(message) if a] == []
        text = json.dumps(message["blocks"], ensure_ascii=False)
        # One coherent text: who took it and when; no request, no deadline worked out again.
        assert "✅ 12/3 10:00に<@U0WIN1>さんがつなぎメモ *R8-0001* を引き受けました。" in text
        assert "お願いします" not in text and "目安" not in text
        no_personal_data(message)
    assert "既に受付" not in json.dumps(after, ensure_ascii=False)


def test_an_acknowledged_memo_gets_no_reminder(bot, clock):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    [card] = [m for m in bot.slack.messages("C0HOUKATSU") if "case_acknowledge" in action_ids(m)]
    assert "引き受けました" in click(bot, "U0WIN1", card, "case_acknowledge")
    clock.at = jst("2026-12-10 10:00")
    result = tick(bot)
    assert result.sent == [] and len(result.cancelled) == 2
    bot.deliver()
    assert reminder_messages(bot) == []
    assert {r.state for r in reminders(bot)} == {"cancelled"}


def test_an_urgent_memo_is_due_within_one_office_hour(bot, clock):
    clock.at = jst("2026-11-27 16:45")  # Friday, 30 minutes before closing
    bot.send_memo("U0PARTNER1", urgency="urgent")
    [ack] = by_rule(bot, "memo_ack")
    assert ack.urgent and ack.deliver_at == jst("2026-11-30 09:00")  # 30 min Fri + 30 min Mon
    [escalation] = by_rule(bot, "memo_ack_escalation")
    assert escalation.deliver_at == jst("2026-11-30 10:00")
    clock.at = jst("2026-11-30 09:00")
    assert tick(bot).sent == [ack.id]


def test_a_three_day_memo_is_due_the_next_business_day(bot, clock):
    bot.send_memo("U0PARTNER1", urgency="three_days")
    [ack] = by_rule(bot, "memo_ack")
    assert ack.deliver_at == jst("2026-11-30 10:00")


# --- restarts and outages -------------------------------------------------------------------------


def test_after_an_outage_overdue_reminders_are_sent_once_and_marked_late(bot, db_url, slack, clock):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    # The bot is down from Monday until Wednesday 11:00; then a new process starts.
    clock.at = jst("2026-12-02 11:00")
    restarted, server = make_bot(db_url, slack, clock)
    try:
        assert len(tick(restarted).sent) == 1  # the scheduler's first tick, at start
        restarted.deliver()
        assert tick(restarted).sent == []
        restarted.deliver()
    finally:
        server.close()
        restarted.rt.engine.dispose()
    [late] = reminder_messages(bot, "C0HOUKATSU")
    assert "遅延" in json.dumps(late["blocks"], ensure_ascii=False)
    assert "12/1 10:00" in json.dumps(late["blocks"], ensure_ascii=False)
    [ack] = by_rule(bot, "memo_ack")
    assert ack.state == "sent" and ack.late


def test_a_process_that_died_holding_a_reminder_loses_it_to_the_next(bot, clock):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    clock.at = jst("2026-12-01 10:00")
    [claimed] = store.claim_due(bot.rt.engine, now=clock(), worker="crashed:0001")
    clock.advance(seconds=30)
    assert tick(bot).sent == []  # the claim still looks alive
    clock.advance(days=1)
    assert tick(bot).sent == []  # a later clock does not expire it: only the real clock does
    with transaction(bot.rt.engine) as session:  # as if the lease had passed in real time
        session.execute(
            update(Reminder)
            .where(Reminder.id == claimed.id)
            .values(claimed_at=lease.wall_now() - lease.LEASE - timedelta(seconds=1))
        )
    assert tick(bot).sent == [claimed.id]
    bot.deliver()
    tick(bot)
    bot.deliver()
    assert len(reminder_messages(bot, "C0HOUKATSU")) == 1


def _due_reminder(bot, clock) -> None:
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    clock.at = jst("2026-12-01 10:00")
    tick(bot)


def test_slack_429_waits_for_retry_after_and_sends_once(bot, clock):
    _due_reminder(bot, clock)
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=30)
    bot.deliver()
    assert reminder_messages(bot) == []
    with Session(bot.rt.engine) as s:
        notice = s.exec(select(Notice).where(Notice.kind == "reminder")).one()
    assert notice.state == "pending" and notice.last_error == "ratelimited"
    assert bot.deliver() == 0  # not before Retry-After
    clock.advance(seconds=30)
    bot.deliver()
    assert len(reminder_messages(bot, "C0HOUKATSU")) == 1


def test_slack_503_backs_off_looks_first_and_sends_once(bot, clock):
    _due_reminder(bot, clock)
    bot.slack.fail_next("chat.postMessage", status=503, times=2)
    bot.deliver()
    clock.advance(seconds=10)
    bot.deliver()
    assert reminder_messages(bot) == []
    clock.advance(seconds=20)
    bot.deliver()
    assert len(reminder_messages(bot, "C0HOUKATSU")) == 1
    assert bot.slack.calls_to("conversations.history")  # checked before posting again


# --- the buttons ----------------------------------------------------------------------------------


def _follow_up(bot, clock) -> tuple[Reminder, dict]:
    """A plain reminder about case R8-0001 for the 高齢者 window, sent now."""
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    with transaction(bot.rt.engine) as session:
        case = session.exec(select(Case)).one()
        houkatsu = session.exec(select(Agency).where(Agency.key == "houkatsu")).one()
        r = schedule_reminder(
            session,
            key=f"case:{case.id}:check_in:1",
            subject=Subject(SubjectKind.case, case.id),
            rule="follow_up",
            recipient=Recipient.agency(houkatsu.id),
            due_at=clock() + timedelta(hours=1),
            at=clock(),
            payload={"topic": "check_in"},
        )
    clock.advance(hours=1)  # Friday 11:00
    assert tick(bot).sent == [r.id]
    bot.deliver()
    [message] = reminder_messages(bot, "C0HOUKATSU")
    return r, message


def test_a_reminder_offers_done_and_snooze_buttons(bot, clock):
    _, message = _follow_up(bot, clock)
    assert action_ids(message) == [
        "reminder_done",
        "reminder_snooze_tomorrow",
        "reminder_snooze_week",
    ]
    assert "R8-0001" in message["text"] and "様子の確認" in message["text"]
    no_personal_data(message)


def test_snooze_until_tomorrow_then_done(bot, clock):
    r, message = _follow_up(bot, clock)
    answer = click(bot, "U0WIN1", message, "reminder_snooze_tomorrow")
    assert "11/30 08:30" in answer  # Friday → Monday's opening
    follow_up = follow_up_of(bot, r.id)
    assert follow_up.state == "pending" and follow_up.deliver_at == jst("2026-11-30 08:30")
    bot.deliver()  # the original message now says who snoozed it, and until when
    [updated] = reminder_messages(bot, "C0HOUKATSU")
    assert "<@U0WIN1>" in json.dumps(updated["blocks"]) and "11/30 08:30" in str(updated)

    # Pressed again (1週間後): the same follow-up moves, no second one.
    click(bot, "U0WIN1", updated, "reminder_snooze_week")
    assert len(reminders(bot)) == 4  # memo_ack, escalation, the reminder, one follow-up
    assert follow_up_of(bot, r.id).deliver_at == jst("2026-12-04 11:00")

    clock.at = jst("2026-12-04 11:00")
    tick(bot)
    bot.deliver()
    second = reminder_messages(bot, "C0HOUKATSU")[-1]
    assert "対応しました" in click(bot, "U0WIN1", second, "reminder_done")
    bot.deliver()
    done = reminder_messages(bot, "C0HOUKATSU")[-1]
    assert "reminder_done" not in action_ids(done) and "✅" in json.dumps(done, ensure_ascii=False)
    assert "すでに対応済み" in click(bot, "U0WIN1", second, "reminder_done")  # a stale button


def test_done_cancels_what_is_still_pending_of_that_reminder(bot, clock):
    r, message = _follow_up(bot, clock)
    click(bot, "U0WIN1", message, "reminder_snooze_tomorrow")
    click(bot, "U0COORD", message, "reminder_done")  # the coordinator may answer any
    follow_up = follow_up_of(bot, r.id)
    assert follow_up.state == "cancelled"
    clock.at = jst("2026-11-30 08:30")
    assert tick(bot).sent == []


@pytest.mark.parametrize(
    "user, says",
    [
        ("U0KODOMO1", "あなたが答えられるお知らせではありません"),
        ("U0PARTNER1", "あなたが答えられるお知らせではありません"),
        ("U0STRANGER", "登録"),
    ],
)
def test_someone_the_reminder_is_not_for_is_refused_audited_and_nothing_changes(
    bot, clock, user, says
):
    r, message = _follow_up(bot, clock)
    for action in ("reminder_done", "reminder_snooze_tomorrow", "reminder_snooze_week"):
        assert says in click(bot, user, message, action)
    with Session(bot.rt.engine) as s:
        row = s.get(Reminder, r.id)
        refused = list(
            s.exec(select(AuditEntry).where(AuditEntry.actor_slack_id == user, ~AuditEntry.allowed))
        )
    assert row.done_at is None and follow_up_of(bot, r.id) is None
    assert [e.action for e in refused][-3:] == [
        "reminder_done",
        "reminder_snooze",
        "reminder_snooze",
    ]


def test_a_forged_button_value_is_answered_and_changes_nothing(bot, clock):
    _, message = _follow_up(bot, clock)
    forged = json.loads(json.dumps(message))
    for block in forged["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "reminder_done":
                element["value"] = "999"
    assert "見つからないか" in click(bot, "U0WIN1", forged, "reminder_done")


def test_snoozing_a_memo_reminder_leaves_the_escalation_on_time(bot, clock):
    _due_reminder(bot, clock)
    bot.deliver()
    [message] = reminder_messages(bot, "C0HOUKATSU")
    assert "12/2 08:30" in click(bot, "U0WIN1", message, "reminder_snooze_tomorrow")
    clock.at = jst("2026-12-02 08:30")
    tick(bot)
    bot.deliver()
    assert len(reminder_messages(bot, "C0HOUKATSU")) == 2
    clock.at = jst("2026-12-03 10:00")
    tick(bot)
    bot.deliver()
    assert len(reminder_messages(bot, "C0COORD")) == 1


def test_once_the_memo_is_taken_its_reminder_buttons_say_so(bot, clock):
    _due_reminder(bot, clock)
    bot.deliver()
    [message] = reminder_messages(bot, "C0HOUKATSU")
    click(bot, "U0WIN1", message, "case_acknowledge")
    assert "もう必要ありません" in click(bot, "U0WIN1", message, "reminder_snooze_tomorrow")


# --- a memo that moves or waits again ------------------------------------------------------------


def _route_to(bot, agency_key: str, *, at: datetime) -> None:
    """What a つなぎ直し does to the case: another team, waiting again from `at`."""
    with transaction(bot.rt.engine) as session:
        case = session.exec(select(Case)).one()
        agency = session.exec(select(Agency).where(Agency.key == agency_key)).one()
        case.routed_agency_id = agency.id
        case.state, case.state_since = "received", at
        case.acknowledged_at = case.acknowledged_by_id = None
        session.add(case)


def ensure(bot) -> list[Reminder]:
    from reminders.memo import ensure_ack_reminders

    with transaction(bot.rt.engine) as session:
        return ensure_ack_reminders(session, now=bot.rt.services.clock())


def test_a_rerouted_memo_is_reminded_to_the_team_that_has_it_now(bot, clock):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    _route_to(bot, "kodomo", at=jst("2026-11-30 09:00"))
    clock.at = jst("2026-12-01 10:00")
    tick(bot)
    bot.deliver()
    assert reminder_messages(bot, "C0HOUKATSU") == []
    [message] = reminder_messages(bot, "C0KODOMO")
    [ack] = by_rule(bot, "memo_ack")
    with Session(bot.rt.engine) as s:
        kodomo = s.exec(select(Agency).where(Agency.key == "kodomo")).one()
    assert (ack.recipient_kind, ack.recipient) == ("agency", str(kodomo.id))
    assert "あなたが答えられるお知らせではありません" in click(
        bot, "U0WIN1", message, "reminder_snooze_tomorrow"
    )
    assert "12/2 08:30" in click(bot, "U0KODOMO1", message, "reminder_snooze_tomorrow")


def test_a_memo_waiting_again_after_it_was_taken_is_watched_again(bot, clock):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    [card] = [m for m in bot.slack.messages("C0HOUKATSU") if "case_acknowledge" in action_ids(m)]
    click(bot, "U0WIN1", card, "case_acknowledge")
    assert ensure(bot) == []  # taken: nothing to watch
    clock.at = jst("2026-12-01 12:00")
    tick(bot)
    assert {r.state for r in reminders(bot)} == {"cancelled", "pending"}  # escalation not due

    _route_to(bot, "kodomo", at=clock())  # handed to another window: waiting again
    [again] = ensure(bot)
    assert again.rule == "memo_ack" and again.deliver_at == jst("2026-12-03 12:00")
    assert ensure(bot) == []  # idempotent
    clock.at = jst("2026-12-03 10:00")  # the old escalation falls due on the way: still useful
    tick(bot)
    clock.at = jst("2026-12-03 12:00")
    assert tick(bot).sent == [again.id]
    bot.deliver()
    assert len(reminder_messages(bot, "C0KODOMO")) == 1
    # Still nobody takes it: the watch goes on, with the coordinator.
    clock.at = jst("2026-12-07 10:00")
    tick(bot)
    pending = [r for r in reminders(bot) if r.state == "pending"]
    assert pending and {r.rule for r in pending} == {"memo_ack_escalation"}


def test_the_ensure_job_is_registered_with_the_scheduler(bot):
    assert "memo_ack_ensure" in bot.rt.scheduler.job_ids()


def test_the_ensure_job_watches_every_waiting_memo_in_small_batches(bot, clock, monkeypatch):
    from reminders import memo as memo_reminders
    from reminders.jobs import JobContext

    for _ in range(5):
        bot.send_memo("U0PARTNER1")
    with transaction(bot.rt.engine) as session:  # as if they came in another way: unwatched
        for reminder in session.exec(select(Reminder)):
            session.delete(reminder)
    monkeypatch.setattr(memo_reminders, "ENSURE_BATCH", 2)
    memo_reminders._ensure_job(JobContext(bot.rt.engine, clock(), lambda: None))
    watched = {int(r.subject_id) for r in by_rule(bot, "memo_ack") if r.state == "pending"}
    with Session(bot.rt.engine) as s:
        assert watched == set(s.exec(select(Case.id)))
    assert len(watched) == 5
