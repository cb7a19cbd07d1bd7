"""Outreach end to end: signed requests to the real bot, the strict Slack stand-in, the
scheduler's tick with an injected clock, the delivery loop."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from handlers.outreach.views import cadence_text
from models.base.db import transaction
from models.cases.tables import Case, current_consent, has_consent
from models.meetings.schedule import schedule
from models.meetings.tables import AgendaItem, MeetingKind
from models.ops.tables import AuditEntry
from models.org.tables import Agency, Member, OrgSetting
from models.outreach.tables import Contact, OutreachTarget
from models.outreach.targets import TargetInput, create
from models.queues.tables import Reminder
from reminders.calendar import TOKYO
from reminders.outreach import schedule_for
from sandbox.standin.signed import Answer
from tests.conftest import START
from tests.desk.test_case_desk_commands import WORKING
from tests.support.desk import (
    _user,
    bring_to,
    click_in_view,
    home_hash,
    new_case,
    opened_after,
    state_of_view,
    wait_home_change,
)
from tests.support.meetings import answered

# What the person's details look like in these tests: none may reach a message or a list.
PERSONAL = [
    "辰野 試験子",
    "たつの しけんこ",
    "試験町1-1 青い屋根",
    "0266-00-0000",
    "試験の理由メモ",
    "不在でした（試験メモ）",
    "入院のため（試験）",
    "試験第一区",
]
DONE = "記録しました"


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def ids_of(engine, *keys: str) -> list[int]:
    with Session(engine) as s:
        return [s.exec(select(Agency).where(Agency.key == k)).one().id for k in keys]


def member_id(engine, slack_id: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Member).where(Member.slack_id == slack_id)).one().id


def target_values(engine, **overrides) -> dict:
    values = {
        "name": "辰野 試験子",
        "kana": "たつの しけんこ",
        "district": "試験第一区",
        "whereabouts": "試験町1-1 青い屋根",
        "contact": "0266-00-0000",
        "age_band": "40-64",
        "reason_kind": "hikikomori",
        "reason": "試験の理由メモ",
        "agencies": [str(i) for i in ids_of(engine, "houkatsu")],
        "cadence": "14",
        "first_contact_on": "2026-11-30",
    }
    values.update(overrides)
    return values


def make_target(
    engine, *, agencies=("houkatsu",), first=date(2026, 11, 30), case_id=None, at=START
):
    """A target made through the domain (with its reminders), as the form would."""
    agency_ids, creator_id = ids_of(engine, *agencies), member_id(engine, "U0COORD")
    with transaction(engine) as s:
        creator = s.get(Member, creator_id)
        target = create(
            s,
            data=TargetInput(
                person={} if case_id else {"name": "辰野 試験子", "contact": "0266-00-0000"},
                reason_kind="self_neglect",
                reason="試験の理由メモ",
                agency_ids=agency_ids,
                cadence_days=14,
                first_contact_on=first,
            ),
            created_by=creator,
            at=at,
            case_id=case_id,
        )
        schedule_for(s, target, at=at)
        return target.id


def command(bot, user: str, text: str):
    """(the answer, how many modals were open before). The command is acknowledged at once
    (empty, or 「作成しています…」); what follows — a form, or words only to the user — is
    waited for, and words stand in for the acknowledgement's text."""
    before = len(bot.slack.views_opened())
    said = len(answered(bot, user))
    answer = bot.signed.command(user, text, trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200, answer.text
    if answer.text and reply(answer) != WORKING:
        return answer, before

    def followed():
        bot.deliver()  # `outreach list` is answered by the worker (handlers/common/deferred.py)
        opened, words = bot.slack.views_opened()[before:], answered(bot, user)[said:]
        return (answer if opened else Answer(200, words[-1]["text"])) if opened or words else None

    return bot.slack.wait_for(followed), before


def reply(answer) -> str:
    """The command's answer, shown only to the user (plain text, or JSON with a text)."""
    return answer.text if not answer.text.startswith("{") else answer.json()["text"]


def send(bot, user: str, view: dict, values: dict) -> dict:
    """Submit a modal; when it is done, wait for the Home tab the bot refreshes after it."""
    home = home_hash(bot, user)
    view = {**view, "state": {"values": state_of_view(view, values)}}
    answer = bot.signed.interaction(
        {"type": "view_submission", "user": _user(user), "trigger_id": "unused", "view": view}
    )
    assert answer.status == 200, answer.text
    body = answer.json()
    if (body.get("view") or {}).get("title", {}).get("text") == DONE:
        wait_home_change(bot, user, home)
    return body


def text_of(body_or_view: dict) -> str:
    return json.dumps(body_or_view, ensure_ascii=False)


def open_home(bot, user: str) -> dict:
    previous = home_hash(bot, user)
    bot.signed.event(
        {"type": "app_home_opened", "user": user, "tab": "home"},
        event_id=f"Ev{user}{datetime.now().timestamp()}",
    )
    return wait_home_change(bot, user, previous)


def choose_in_home(bot, user: str, home: dict, value: str):
    """Pick `value` (e.g. "log:1") in a target's overflow menu on the Home tab."""
    for block in home["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") != "outreach_menu":
            continue
        if value not in [o["value"] for o in accessory["options"]]:
            continue
        return bot.signed.interaction(
            {
                "type": "block_actions",
                "user": _user(user),
                "trigger_id": bot.slack.issue_trigger_id(),
                "container": {"type": "view", "view_id": home["id"]},
                "view": home,
                "actions": [
                    {
                        "type": "overflow",
                        "action_id": "outreach_menu",
                        "block_id": block["block_id"],
                        "selected_option": {"value": value},
                    }
                ],
            }
        )
    raise AssertionError(f"no menu option {value} on the Home tab")


def pick_outcome(bot, user: str, view: dict, outcome: str) -> dict:
    """Choose an outcome in the contact form (dispatch_action): the bot updates the form."""
    state = state_of_view(view, {"outcome": outcome})
    answer = bot.signed.interaction(
        {
            "type": "block_actions",
            "user": _user(user),
            "trigger_id": bot.slack.issue_trigger_id(),
            "container": {"type": "view", "view_id": view["id"]},
            "view": {**view, "state": {"values": state}},
            "actions": [
                {
                    "type": "radio_buttons",
                    "action_id": "outreach_outcome",
                    "block_id": "outcome",
                    "selected_option": {"value": outcome},
                }
            ],
        }
    )
    assert answer.status == 200, answer.text
    want = outcome == "consented"
    return bot.slack.wait_for(
        lambda: next(
            (
                v
                for v in bot.slack.views_opened()
                if v["id"] == view["id"]
                and want == any(b.get("block_id") == "consent_method" for b in v["blocks"])
            ),
            None,
        )
    )


def click_message(bot, user: str, message: dict, action_id: str):
    before_views = len(bot.slack.views_opened())
    before_eph = len(bot.slack.ephemerals(user))
    answer = bot.signed.click(user, message, action_id, trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200, answer.text
    return before_views, before_eph


def ephemeral_after(bot, user: str, before: int) -> str:
    return bot.slack.wait_for(lambda: bot.slack.ephemerals(user)[before:])[-1]["text"]


def key_of(message: dict) -> str:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")


def outreach_messages(bot, channel: str | None = None) -> list[dict]:
    """The reminders about targets (the registration's notice to each agency aside)."""
    return [
        m
        for m in bot.slack.messages(channel)
        if "OT-" in m.get("text", "") and ":assigned:" not in key_of(m)
    ]


def assigned_messages(bot, channel: str | None = None) -> list[dict]:
    return [m for m in bot.slack.messages(channel) if ":assigned:" in key_of(m)]


def reminders_of(engine, target_id: int, state: str | None = None) -> list[Reminder]:
    with Session(engine) as s:
        query = select(Reminder).where(
            Reminder.subject_kind == "outreach", Reminder.subject_id == str(target_id)
        )
        rows = list(s.exec(query.order_by(Reminder.id)))
    return [r for r in rows if state is None or r.state == state]


def refusals(engine, action: str) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(AuditEntry).where(AuditEntry.action == action, AuditEntry.allowed.is_(False))
            )
        )


def nothing_personal_in_slack_messages(bot) -> None:
    """Messages, ephemeral answers and Home tabs carry labels only (modals may show details)."""
    homes = bot.slack.home_views() or {}
    for item in [*bot.slack.messages(), *bot.slack.ephemerals(), *homes.values()]:
        dumped = text_of(item)
        for value in PERSONAL:
            assert value not in dumped, value


# --- registering, the reminder, logging a contact from it ---------------------------------------


def test_register_remind_and_log_a_contact_from_the_reminder(bot, clock):
    form = command(bot, "U0WIN1", "outreach")[1]
    view = opened_after(bot, form)
    assert view["callback_id"] == "outreach_create"
    body = send(bot, "U0WIN1", view, target_values(bot.rt.engine))
    assert body["response_action"] == "update" and "OT-0001" in text_of(body)
    with Session(bot.rt.engine) as s:
        target = s.exec(select(OutreachTarget)).one()
        assert target.person["name"] == "辰野 試験子" and target.age_band == "40-64"
    contact, overdue = reminders_of(bot.rt.engine, target.id, "pending")
    assert (contact.rule, contact.deliver_at) == ("outreach_contact", jst("2026-11-30 08:30"))
    # default escalation: 3 business days after Monday's contact date
    assert (overdue.rule, overdue.deliver_at) == ("outreach_overdue", jst("2026-12-03 08:30"))

    clock.at = jst("2026-11-30 08:30")
    assert bot.rt.scheduler.tick().sent == [contact.id]
    bot.deliver()
    [message] = outreach_messages(bot, "C0HOUKATSU")
    assert "OT-0001" in message["text"]

    before, _ = click_message(bot, "U0WIN1", message, "outreach_log")
    form = opened_after(bot, before)
    assert form["callback_id"] == "outreach_contact"
    [date_block] = [b for b in form["blocks"] if b.get("block_id") == "next_contact_on"]
    assert date_block["element"]["initial_date"] == "2026-12-14"  # 11/30 + 2 weeks (Monday)
    body = send(
        bot,
        "U0WIN1",
        form,
        {
            "method": "visit",
            "outcome": "absent",
            "note": "不在でした（試験メモ）",
            "next_contact_on": "2026-12-14",
        },
    )
    assert "12/14" in text_of(body)
    bot.deliver()
    # the reminder message now says who answered it, and offers nothing more
    updated = bot.slack.wait_for(
        lambda: [m for m in outreach_messages(bot, "C0HOUKATSU") if "U0WIN1" in text_of(m)]
    )[0]
    assert "outreach_log" not in text_of(updated)
    states = {(r.rule, r.state) for r in reminders_of(bot.rt.engine, target.id)}
    assert ("outreach_overdue", "cancelled") in states
    [new_contact, new_overdue] = reminders_of(bot.rt.engine, target.id, "pending")
    assert new_contact.deliver_at == jst("2026-12-14 08:30")
    assert new_overdue.deliver_at == jst("2026-12-17 08:30")
    clock.at = jst("2026-12-03 08:30")
    assert bot.rt.scheduler.tick().sent == []  # the old escalation no longer applies
    with Session(bot.rt.engine) as s:
        [logged] = s.exec(select(Contact)).all()
        assert (logged.method, logged.outcome) == ("visit", "absent")
    nothing_personal_in_slack_messages(bot)


def test_the_assigned_agencies_are_told_at_once_without_the_person(bot, clock):
    """Registered on Friday for two agencies: the one with a channel hears in its channel, the
    one without through its members' DMs — at once, the number, cadence and first date only.
    The form's first contact date is the next business day (Friday 11/27 → Monday 11/30)."""
    form = command(bot, "U0COORD", "outreach")[1]
    view = opened_after(bot, form)
    [first] = [b for b in view["blocks"] if b.get("block_id") == "first_contact_on"]
    assert first["element"]["initial_date"] == "2026-11-30"
    values = target_values(bot.rt.engine)
    values["agencies"] = [str(i) for i in ids_of(bot.rt.engine, "houkatsu", "shogai")]
    body = send(bot, "U0COORD", view, values)
    assert body["response_action"] == "update"
    bot.deliver()
    [channel] = assigned_messages(bot, "C0HOUKATSU")
    dms = [
        m
        for m in assigned_messages(bot)
        if m["channel"] in ("U0SHOGAI1", "DU0SHOGAI1", "U0SHOGAI2", "DU0SHOGAI2")
    ]
    assert len(dms) == 2
    for message in (channel, *dms):
        text = text_of(message)
        assert "最初の接触予定：11/30（月）" in text and f"間隔：{cadence_text(14)}" in text
        assert (
            message["text"]
            == "アウトリーチOT-0001の担当になりました（最初の接触予定：11/30（月））"
        )
    assert "高齢者相談支援センター" in text_of(channel)
    assert assigned_messages(bot, "C0KODOMO") == []
    nothing_personal_in_slack_messages(bot)


# --- escalation after N business days ------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "escalates_at"),
    [
        (None, "2027-01-05 08:30"),  # default 3: 12/28, then 1/4 and 1/5 (年末年始 closed)
        (1, "2026-12-28 08:30"),
    ],
)
def test_a_missed_contact_escalates_to_the_coordinator(bot, clock, days, escalates_at):
    if days is not None:
        with transaction(bot.rt.engine) as s:
            row = s.get(OrgSetting, "outreach") or OrgSetting(key="outreach")
            row.value = {"escalate_after_days": days}
            s.add(row)
    clock.at = jst("2026-12-21 10:00")
    target_id = make_target(bot.rt.engine, first=date(2026, 12, 25), at=clock.at)
    [contact, overdue] = reminders_of(bot.rt.engine, target_id, "pending")
    assert contact.deliver_at == jst("2026-12-25 08:30")
    assert overdue.deliver_at == jst(escalates_at)
    clock.at = jst("2026-12-25 08:30")
    assert bot.rt.scheduler.tick().sent == [contact.id]
    clock.at = jst(escalates_at) - timedelta(hours=1)
    assert bot.rt.scheduler.tick().sent == []
    clock.at = jst(escalates_at)
    assert bot.rt.scheduler.tick().sent == [overdue.id]
    bot.deliver()
    [message] = outreach_messages(bot, "C0COORD")
    assert "OT-0001" in message["text"] and "記録がありません" in message["text"]
    assert len(outreach_messages(bot, "C0HOUKATSU")) == 1
    assert "outreach_log" in text_of(message)
    nothing_personal_in_slack_messages(bot)


def test_a_contact_on_a_closed_day_is_reminded_on_the_business_day_before(bot, clock):
    target_id = make_target(bot.rt.engine, first=date(2026, 12, 5))  # a Saturday
    [contact, overdue] = reminders_of(bot.rt.engine, target_id, "pending")
    assert contact.deliver_at == jst("2026-12-04 08:30")
    assert overdue.deliver_at == jst("2026-12-10 08:30")  # Mon 12/7 + 3 business days


# --- the consent move, end to end ---------------------------------------------------------------


def marugoto_meeting(engine, days: int = 5) -> int:
    coord_id, win_id = member_id(engine, "U0COORD"), member_id(engine, "U0WIN1")
    with transaction(engine) as s:
        coord = s.get(Member, coord_id)
        meeting = schedule(
            s,
            kind=MeetingKind.marugoto,
            starts_at=START + timedelta(days=days),
            place="役場 第1会議室",
            member_ids=[coord_id, win_id],
            agency_ids=[],
            case_ids=[],
            created_by=coord,
            at=START,
            has_consent=has_consent,
        )
        return meeting.id


def test_consent_recorded_case_moved_agenda_offered_and_added(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, "saponet", START)
    target_id = make_target(engine, case_id=case_id)
    meeting_id = marugoto_meeting(engine)

    home = open_home(bot, "U0WIN1")
    assert "OT-0001" in text_of(home)
    before = len(bot.slack.views_opened())
    choose_in_home(bot, "U0WIN1", home, f"log:{target_id}")
    form = opened_after(bot, before)
    # before consent: the form asks for the next date, not for consent
    assert "next_contact_on" in text_of(form) and "consent_method" not in text_of(form)
    form = pick_outcome(bot, "U0WIN1", form, "consented")
    assert "next_contact_on" not in [b.get("block_id") for b in form["blocks"]]
    [agencies] = [b for b in form["blocks"] if b.get("block_id") == "consent_agencies"]
    houkatsu = str(ids_of(engine, "houkatsu")[0])
    assert [o["value"] for o in agencies["element"]["initial_options"]] == [houkatsu]

    # inline error: no consent method chosen — nothing is stored
    body = send(
        bot,
        "U0WIN1",
        form,
        {"method": "visit", "outcome": "consented", "consent_agencies": [houkatsu]},
    )
    assert body["response_action"] == "errors" and "consent_method" in body["errors"]
    with Session(engine) as s:
        assert current_consent(s, case_id) is None

    body = send(
        bot,
        "U0WIN1",
        form,
        {
            "method": "visit",
            "outcome": "consented",
            "consent_method": "written",
            "consent_agencies": [houkatsu],
        },
    )
    assert body["response_action"] == "update"
    done = text_of(body)
    assert "R8-0001" in done and "たつのまるごと会議" in done
    assert "outreach_agenda" not in done  # a window: the coordinator decides the agenda
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case.state == "marugoto"
        consent = current_consent(s, case_id)
        assert (consent.status, consent.method) == ("given", "written")
        assert s.get(OutreachTarget, target_id).state == "consented"
    assert reminders_of(engine, target_id, "pending") == []

    bot.deliver()
    [notice] = [m for m in bot.slack.messages("C0COORD") if "outreach_agenda" in text_of(m)]
    assert "OT-0001" in notice["text"] and "R8-0001" in notice["text"]
    # someone else in the channel clicks: refused, nothing added, audited
    _, eph = click_message(bot, "U0WIN1", notice, "outreach_agenda")
    assert "重層推進室" in ephemeral_after(bot, "U0WIN1", eph)
    assert refusals(engine, "outreach_agenda")
    _, eph = click_message(bot, "U0COORD", notice, "outreach_agenda")
    assert "議題に入れました" in ephemeral_after(bot, "U0COORD", eph)
    with Session(engine) as s:
        [item] = s.exec(select(AgendaItem)).all()
        assert (item.meeting_id, item.case_id) == (meeting_id, case_id)
    _, eph = click_message(bot, "U0COORD", notice, "outreach_agenda")
    assert "すでに" in ephemeral_after(bot, "U0COORD", eph)
    with Session(engine) as s:
        assert len(s.exec(select(AgendaItem)).all()) == 1
    nothing_personal_in_slack_messages(bot)


def test_the_coordinator_gets_the_agenda_button_and_a_case_is_made_when_none(bot):
    engine = bot.rt.engine
    target_id = make_target(engine, agencies=("minsei", "houkatsu"))
    marugoto_meeting(engine)
    home = open_home(bot, "U0COORD")
    before = len(bot.slack.views_opened())
    choose_in_home(bot, "U0COORD", home, f"log:{target_id}")
    form = pick_outcome(bot, "U0COORD", opened_after(bot, before), "consented")
    ids = [str(i) for i in ids_of(engine, "minsei", "houkatsu")]
    body = send(
        bot,
        "U0COORD",
        form,
        {
            "method": "phone",
            "outcome": "consented",
            "consent_method": "oral",
            "consent_agencies": ids,
        },
    )
    done = body["view"]
    assert "R8-0001" in text_of(done) and "作成" in text_of(done)
    with Session(engine) as s:
        case = s.exec(select(Case)).one()
        assert case.state == "coordination" and case.route_reason == "complex_concern"
        assert sorted(current_consent(s, case.id).agency_ids) == sorted(map(int, ids))
    # the agenda button right in the answer (a modal): the coordinator adds it there
    before = len(bot.slack.views_opened())
    answer = click_in_view(bot, "U0COORD", {**done, "id": form["id"]}, "outreach_agenda")
    assert answer.status == 200
    assert "議題に入れました" in text_of(opened_after(bot, before))
    with Session(engine) as s:
        assert len(s.exec(select(AgendaItem)).all()) == 1
    bot.deliver()
    nothing_personal_in_slack_messages(bot)


# --- pause and resume move the reminders ----------------------------------------------------------


def test_pause_and_resume_from_the_target_modal_move_the_reminders(bot, clock):
    engine = bot.rt.engine
    target_id = make_target(engine)
    assert len(reminders_of(engine, target_id, "pending")) == 2
    home = open_home(bot, "U0WIN1")
    before = len(bot.slack.views_opened())
    choose_in_home(bot, "U0WIN1", home, f"open:{target_id}")
    detail = opened_after(bot, before)
    assert "辰野 試験子" in text_of(detail)  # the modal shows the person to the assigned worker
    with Session(engine) as s:
        [seen] = s.exec(select(AuditEntry).where(AuditEntry.action == "outreach_view_detail")).all()
        assert (seen.actor_slack_id, seen.allowed, seen.detail) == (
            "U0WIN1",
            True,
            f"outreach:{target_id}",
        )

    before = len(bot.slack.views_opened())
    click_in_view(bot, "U0WIN1", detail, "outreach_pause")
    form = opened_after(bot, before)
    body = send(bot, "U0WIN1", form, {"reason": " "})
    assert body["response_action"] == "errors" and "reason" in body["errors"]
    body = send(bot, "U0WIN1", form, {"reason": "入院のため（試験）"})
    assert "一時停止" in text_of(body)
    assert reminders_of(engine, target_id, "pending") == []
    clock.at = jst("2026-12-03 08:30")
    assert bot.rt.scheduler.tick().sent == []  # nothing while paused

    home = open_home(bot, "U0WIN1")
    assert "一時停止" in text_of(home)
    before = len(bot.slack.views_opened())
    choose_in_home(bot, "U0WIN1", home, f"open:{target_id}")
    detail = opened_after(bot, before)
    before = len(bot.slack.views_opened())
    click_in_view(bot, "U0WIN1", detail, "outreach_resume")
    form = opened_after(bot, before)
    [date_block] = [b for b in form["blocks"] if b.get("block_id") == "next_contact_on"]
    assert date_block["element"]["initial_date"] == "2026-12-17"  # 12/3 + 2 weeks
    body = send(bot, "U0WIN1", form, {"reason": "退院", "next_contact_on": "2026-12-02"})
    assert body["errors"] == {"next_contact_on": "今日以降の日付を選んでください。"}
    body = send(bot, "U0WIN1", form, {"reason": "退院", "next_contact_on": "2026-12-17"})
    assert "12/17" in text_of(body)
    contact, overdue = reminders_of(engine, target_id, "pending")
    assert contact.deliver_at == jst("2026-12-17 08:30")
    assert overdue.deliver_at == jst("2026-12-22 08:30")
    nothing_personal_in_slack_messages(bot)


# --- rights, through signed requests -------------------------------------------------------------


def test_only_assigned_workers_and_the_coordinator_reach_a_target(bot, clock):
    engine = bot.rt.engine
    target_id = make_target(engine, first=date(2026, 11, 27))
    bot.rt.scheduler.tick()
    bot.deliver()
    [message] = outreach_messages(bot, "C0HOUKATSU")

    # another window, the partner, the department, a stranger click 接触を記録する in the channel
    for user in ("U0KODOMO1", "U0PARTNER1", "U0DEPT1", "U0STRANGER", "U0SUPPORT1"):
        views, eph = click_message(bot, user, message, "outreach_log")
        said = ephemeral_after(bot, user, eph)
        assert "担当" in said or "登録" in said, said
        assert len(bot.slack.views_opened()) == views
    denied = {e.actor_slack_id for e in refusals(engine, "outreach_log_contact")}
    assert denied == {"U0KODOMO1", "U0PARTNER1", "U0DEPT1", "U0STRANGER", "U0SUPPORT1"}

    # the assigned window and the coordinator get the form
    for user in ("U0WIN1", "U0COORD"):
        views, _ = click_message(bot, user, message, "outreach_log")
        assert opened_after(bot, views)["callback_id"] == "outreach_contact"

    # a forged submission by another window stores nothing
    form = bot.slack.views_opened()[-1]
    body = send(
        bot,
        "U0KODOMO1",
        form,
        {"method": "visit", "outcome": "met", "next_contact_on": "2026-12-11"},
    )
    assert body["response_action"] == "update" and "担当の機関" in text_of(body)
    with Session(engine) as s:
        assert s.exec(select(Contact)).all() == []

    # the target's details: assigned worker and coordinator only; refusals audited
    for user, allowed in [("U0COORD", True), ("U0KODOMO1", False), ("U0SUPPORT1", False)]:
        views, eph = click_message(
            bot, user, {**message, "blocks": [open_button(target_id)]}, "outreach_open"
        )
        if allowed:
            assert "0266-00-0000" in text_of(opened_after(bot, views))
        else:
            ephemeral_after(bot, user, eph)
            assert len(bot.slack.views_opened()) == views
    assert {e.actor_slack_id for e in refusals(engine, "outreach_view_detail")} == {
        "U0KODOMO1",
        "U0SUPPORT1",
    }

    # registering: workers of the coordinator, windows and support agencies only
    for user in ("U0PARTNER1", "U0DEPT1", "U0ADMIN1", "U0STRANGER"):
        answer, views = command(bot, user, "outreach")
        assert reply(answer) and len(bot.slack.views_opened()) == views
    answer, views = command(bot, "U0SUPPORT1", "outreach")
    assert opened_after(bot, views)["callback_id"] == "outreach_create"
    assert len(refusals(engine, "outreach_create")) == 4
    nothing_personal_in_slack_messages(bot)


def open_button(target_id: int) -> dict:
    return {
        "type": "actions",
        "block_id": "test",
        "elements": [
            {
                "type": "button",
                "action_id": "outreach_open",
                "value": str(target_id),
                "text": {"type": "plain_text", "text": "x"},
            }
        ],
    }


def test_a_support_member_of_an_assigned_agency_works_the_target(bot):
    engine = bot.rt.engine
    target_id = make_target(engine, agencies=("minsei",))
    home = open_home(bot, "U0SUPPORT1")
    assert "OT-0001" in text_of(home)
    before = len(bot.slack.views_opened())
    choose_in_home(bot, "U0SUPPORT1", home, f"log:{target_id}")
    form = opened_after(bot, before)
    body = send(
        bot,
        "U0SUPPORT1",
        form,
        {"method": "via_other", "outcome": "building", "next_contact_on": "2026-12-11"},
    )
    assert "12/11" in text_of(body)
    assert "OT-0001" not in text_of(open_home(bot, "U0WIN1"))


# --- from a case --------------------------------------------------------------------------------


def test_a_target_from_the_case_detail_modal(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, "window", START)
    detail_button = {
        "type": "actions",
        "block_id": "t",
        "elements": [
            {
                "type": "button",
                "action_id": "case_detail",
                "value": str(case_id),
                "text": {"type": "plain_text", "text": "x"},
            }
        ],
    }
    views, _ = click_message(
        bot,
        "U0WIN1",
        {"channel": "C0HOUKATSU", "ts": "1.0", "blocks": [detail_button]},
        "case_detail",
    )
    detail = opened_after(bot, views)
    assert "outreach_from_case" in text_of(detail)
    before = len(bot.slack.views_opened())
    click_in_view(bot, "U0WIN1", detail, "outreach_from_case")
    form = opened_after(bot, before)
    blocks = [b.get("block_id") for b in form["blocks"]]
    assert "name" not in blocks and "contact" not in blocks  # the case holds the person
    [agencies] = [b for b in form["blocks"] if b.get("block_id") == "agencies"]
    assert [o["value"] for o in agencies["element"]["initial_options"]] == [
        str(i) for i in ids_of(engine, "houkatsu")
    ]
    values = {
        "reason_kind": "refusal",
        "agencies": [str(i) for i in ids_of(engine, "houkatsu")],
        "cadence": "7",
        "first_contact_on": "2026-12-01",
    }
    body = send(bot, "U0WIN1", form, values)
    assert "OT-0001" in text_of(body)
    with Session(engine) as s:
        target = s.exec(select(OutreachTarget)).one()
        assert (target.case_id, target.person, target.cadence_days) == (case_id, {}, 7)
    # the case's detail now opens the target instead
    views, _ = click_message(
        bot,
        "U0WIN1",
        {"channel": "C0HOUKATSU", "ts": "1.0", "blocks": [detail_button]},
        "case_detail",
    )
    assert "outreach_open" in text_of(opened_after(bot, views))


# --- bad input -----------------------------------------------------------------------------------


def test_bad_registrations_get_inline_errors_and_store_nothing(bot):
    engine = bot.rt.engine
    view = opened_after(bot, command(bot, "U0WIN1", "outreach")[1])
    values = target_values(engine, agencies=[], first_contact_on="2026-11-20")
    del values["reason_kind"]
    body = send(bot, "U0WIN1", view, values)
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"agencies", "first_contact_on", "reason_kind"}
    body = send(bot, "U0WIN1", view, target_values(engine, district="どこか"))
    assert set(body["errors"]) == {"district"}
    with Session(engine) as s:
        assert s.exec(select(OutreachTarget)).all() == []
        assert s.exec(select(Reminder)).all() == []


def test_a_contact_form_whose_outcome_changed_after_it_opened_is_told_so(bot):
    engine = bot.rt.engine
    target_id = make_target(engine)
    home = open_home(bot, "U0WIN1")
    before = len(bot.slack.views_opened())
    choose_in_home(bot, "U0WIN1", home, f"log:{target_id}")
    form = opened_after(bot, before)
    # 同意が得られた submitted without the consent questions ever shown (the update was lost)
    body = send(bot, "U0WIN1", form, {"method": "visit", "outcome": "consented"})
    assert body["response_action"] == "errors" and list(body["errors"]) == ["outcome"]
    with Session(engine) as s:
        assert s.exec(select(Contact)).all() == []


# --- lists: the Home tab, /tsunagi outreach list, tsunagi outreach list ------------------------


def test_the_coordinator_sees_the_whole_list_paged_within_slack_limits(bot, clock):
    engine = bot.rt.engine
    for i in range(20):
        make_target(engine, agencies=("kodomo",) if i % 2 else ("houkatsu",))
    home = open_home(bot, "U0COORD")
    assert len(home["blocks"]) <= 100
    assert "全20件" in text_of(home) and "outreach_new" in text_of(home)
    assert "home_page_next" in text_of(home)
    page = click_in_view(bot, "U0COORD", home, "home_page_next")
    assert page.status == 200
    second = wait_home_change(bot, "U0COORD", home["hash"])
    assert "2 / 3" in text_of(second)
    window = open_home(bot, "U0KODOMO1")
    assert "10件" in text_of(window)
    clock.at = jst("2026-12-01 10:00")  # the first contacts (11/30) are now overdue
    window = open_home(bot, "U0KODOMO1")
    assert "OT-0002" in text_of(window) and "過ぎています" in text_of(window)
    nothing_personal_in_slack_messages(bot)


def test_the_list_command_shows_labels_and_dates_only(bot):
    engine = bot.rt.engine
    make_target(engine)
    make_target(engine, agencies=("kodomo",))
    answer, _ = command(bot, "U0WIN1", "outreach list")
    text = reply(answer)
    assert "OT-0001" in text and "OT-0002" not in text and "2週ごと" in text
    answer, _ = command(bot, "U0COORD", "outreach list")
    text = reply(answer)
    assert "OT-0001" in text and "OT-0002" in text
    for user in ("U0PARTNER1", "U0STRANGER"):
        answer, _ = command(bot, user, "outreach list")
        assert "OT-" not in reply(answer)
    for value in PERSONAL:
        assert value not in text


def test_the_cli_list_has_no_personal_data(bot, monkeypatch, capsys, db_url):
    from bot.cli.main import main

    engine = bot.rt.engine
    first = make_target(engine)
    make_target(engine, agencies=("kodomo", "minsei"), first=date(2026, 12, 2))
    coordinator = member_id(engine, "U0COORD")
    with transaction(engine) as s:
        from models.outreach.targets import pause

        pause(
            s,
            s.get(OutreachTarget, first),
            reason="入院のため（試験）",
            by=s.get(Member, coordinator),
            at=START,
        )
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.delenv("TSUNAGI_ENCRYPTION_KEY", raising=False)  # not needed: nothing decrypted
    assert main(["outreach", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "番号",
        "状態",
        "間隔",
        "次の接触予定",
        "最後の接触",
        "担当",
        "ケース",
    ]
    assert "OT-0002" in lines[1] and "2026-12-02" in lines[1] and "kodomo,minsei" in lines[1]
    assert "OT-0001" in lines[2] and "一時停止中" in lines[2] and "14日ごと" in lines[2]
    assert lines[-1] == "2件"
    for value in PERSONAL:
        assert value not in out


def test_tomorrow_on_the_reminder_then_a_contact_cancels_the_follow_up(bot, clock):
    engine = bot.rt.engine
    target_id = make_target(engine, first=date(2026, 11, 27))
    bot.rt.scheduler.tick()
    bot.deliver()
    [message] = outreach_messages(bot, "C0HOUKATSU")
    _, eph = click_message(bot, "U0KODOMO1", message, "reminder_snooze_tomorrow")
    ephemeral_after(bot, "U0KODOMO1", eph)  # not theirs: refused
    _, eph = click_message(bot, "U0WIN1", message, "reminder_snooze_tomorrow")
    ephemeral_after(bot, "U0WIN1", eph)
    [overdue, follow_up] = reminders_of(engine, target_id, "pending")
    assert follow_up.deliver_at == jst("2026-11-30 08:30") and follow_up.snoozed_from_id
    before = len(bot.slack.views_opened())
    bot.signed.click("U0WIN1", message, "outreach_log", trigger_id=bot.slack.issue_trigger_id())
    form = opened_after(bot, before)
    send(
        bot,
        "U0WIN1",
        form,
        {"method": "phone", "outcome": "refused", "next_contact_on": "2026-12-11"},
    )
    states = {r.id: r.state for r in reminders_of(engine, target_id)}
    assert states[follow_up.id] == "cancelled" and states[overdue.id] == "cancelled"
