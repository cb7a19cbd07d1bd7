"""The three meetings end to end: signed requests to the bot, the strict Slack stand-in, the
scheduler's tick on an injected clock. Every legal rule has a test that tries to break it."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models.cases.lifecycle import CaseState
from models.meetings.tables import AgendaItem, Meeting, MeetingAttendee
from models.queues.tables import Notice
from tests.conftest import START
from tests.intake.test_intake_e2e import PERSONAL
from tests.support.desk import agency, bring_to, new_case
from tests.support.meetings import (
    COORD,
    answered,
    audits,
    click_message,
    click_view,
    command,
    dms,
    ephemeral_after,
    has_button,
    jst,
    local,
    meetings,
    new_view,
    options,
    reminders,
    submit,
    text_of,
)


def nothing_stored(engine) -> None:
    with Session(engine) as s:
        assert s.exec(select(Meeting)).all() == []
        assert s.exec(select(MeetingAttendee)).all() == []
        assert s.exec(select(AgendaItem)).all() == []
        assert [n for n in s.exec(select(Notice)) if n.kind.startswith("meeting")] == []
    assert [r for r in reminders(engine) if r.rule.startswith("meeting")] == []


@pytest.fixture
def cases(bot):
    """R8-0001 in さぽネット (no consent); R8-0002 in たつのまるごと会議 (consent for 高齢)."""
    engine = bot.rt.engine
    sapo = new_case(engine, START)
    bring_to(engine, sapo, CaseState.saponet, START)
    maru = new_case(engine, START)
    bring_to(engine, maru, CaseState.marugoto, START)
    bot.deliver()
    return {"saponet": sapo, "marugoto": maru}


def form(bot, kind: str = "") -> dict:
    view = command(bot, COORD, f"meeting {kind}".strip())
    assert view["callback_id"] == "meeting_schedule"
    return view


def values(**over) -> dict:
    base = {
        "date": "2026-12-07",  # a Monday
        "time": "10:00",
        "length": "60",
        "place": "役場 第1会議室",
        "members": [COORD, "U0WIN1"],
        "remind": "60",
    }
    base.update(over)
    return base


# --- the form ------------------------------------------------------------------------------------


def test_the_form_follows_the_kind_chosen(bot):
    view = form(bot)
    blocks = {b.get("block_id") for b in view["blocks"]}
    assert {"kind", "date", "time", "members", "agencies", "cases", "remind"} <= blocks
    assert "topics" not in blocks
    assert "守秘義務" in text_of(view)  # the legal footing of a さぽネット会議 is explained
    # choosing the kind: the bot redraws the same modal with the Link-net fields
    kind_block = next(b for b in view["blocks"] if b.get("block_id") == "kind")
    answer = bot.signed.interaction(
        {
            "type": "block_actions",
            "user": {"id": COORD, "team_id": "T0TEST"},
            "trigger_id": bot.slack.issue_trigger_id(),
            "container": {"type": "view", "view_id": view["id"]},
            "view": view,
            "actions": [
                {
                    "type": "static_select",
                    "action_id": "meeting_kind",
                    "block_id": kind_block["block_id"],
                    "selected_option": {"value": "linknet"},
                }
            ],
        }
    )
    assert answer.status == 200
    updated = bot.slack.wait_for(
        lambda: [
            v for v in bot.slack.views_opened() if v["id"] == view["id"] and "topics" in text_of(v)
        ]
    )[0]
    blocks = {b.get("block_id") for b in updated["blocks"]}
    assert {"topics", "repeat"} <= blocks and "cases" not in blocks
    assert "個人が特定される" in text_of(updated)


def test_the_cases_select_offers_open_cases_by_receipt_number(bot, cases):
    view = form(bot, "まるごと")
    found = options(bot, COORD, view, "")
    assert [o["value"] for o in found] == [str(cases["marugoto"]), str(cases["saponet"])]
    texts = {o["value"]: o["text"]["text"] for o in found}
    assert (
        "R8-0002" in texts[str(cases["marugoto"])] and "同意あり" in texts[str(cases["marugoto"])]
    )
    assert "同意なし" in texts[str(cases["saponet"])]
    assert [o["value"] for o in options(bot, COORD, view, "ｒ８－０００１")] == [
        str(cases["saponet"])
    ]
    assert [o["value"] for o in options(bot, COORD, view, "2")] == [str(cases["marugoto"])]
    for o in found:
        assert len(o["text"]["text"]) <= 75
        assert not any(p in o["text"]["text"] for p in PERSONAL)
    # nobody but the coordinator gets the list
    assert options(bot, "U0WIN1", view, "") == []


def test_someone_else_gets_their_meetings_not_the_form(bot):
    answer = command(bot, "U0WIN1", "meeting")
    assert "予定されている会議はありません" in text_of(answer["reply"])
    answer = command(bot, "U0STRANGER", "meeting")
    assert "登録" in text_of(answer["reply"])


def test_an_attendees_list_comes_from_the_worker_with_its_open_buttons(bot, cases):
    meeting = schedule_saponet(bot, cases)
    bot.deliver()
    opened, said = len(bot.slack.views_opened()), len(answered(bot, "U0WIN1"))
    # the door acknowledges with the placeholder: no form for an attendee, the list follows
    ack = bot.signed.command("U0WIN1", "meeting", trigger_id=bot.slack.issue_trigger_id())
    assert ack.text == "作成しています…少しお待ちください。"
    assert answered(bot, "U0WIN1")[said:] == []  # the worker answers, not the door
    bot.deliver()
    [listed] = answered(bot, "U0WIN1")[said:]
    assert "さぽネット" in text_of(listed)
    assert has_button(listed["blocks"], "meeting_open")
    opens = [(b.get("accessory") or {}).get("value") for b in listed["blocks"]]
    assert str(meeting.id) in opens
    assert len(bot.slack.views_opened()) == opened
    assert not any(p in text_of(listed) for p in PERSONAL)


# --- rule 1: さぽネット会議 only with members bound by 守秘義務 ---


def test_saponet_refuses_an_attendee_without_a_confidentiality_ack(bot, cases):
    view = form(bot)
    answer = submit(
        bot,
        COORD,
        view,
        values(members=[COORD, "U0SHOGAI1"], cases=[cases["saponet"]]),
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"members"}
    assert "試験 障がい一さん" in answer["errors"]["members"]
    assert "守秘義務" in answer["errors"]["members"]
    nothing_stored(bot.rt.engine)


def test_saponet_refuses_a_whole_agency_with_an_unbound_member(bot, cases):
    with Session(bot.rt.engine) as s:
        shogai = agency(s, "shogai")
    view = form(bot)
    answer = submit(bot, COORD, view, values(agencies=[shogai.id], cases=[cases["saponet"]]))
    assert set(answer["errors"]) == {"agencies"}
    assert "試験 障がい一さん" in answer["errors"]["agencies"]
    assert "試験 障がい二さん" in answer["errors"]["agencies"]
    nothing_stored(bot.rt.engine)


def test_strangers_cannot_be_invited(bot):
    view = form(bot)
    answer = submit(bot, COORD, view, values(members=[COORD, "U0STRANGER"]))
    assert answer["errors"]["members"].startswith("名簿")
    nothing_stored(bot.rt.engine)


# --- rule 2: たつのまるごと会議 only with consent; さぽネット is offered ---


def test_marugoto_refuses_a_case_without_consent_and_offers_saponet(bot, cases):
    view = form(bot, "まるごと")
    answer = submit(bot, COORD, view, values(cases=[cases["marugoto"], cases["saponet"]]))
    assert set(answer["errors"]) == {"cases"}
    message = answer["errors"]["cases"]
    assert "R8-0001" in message and "R8-0002" not in message
    assert "さぽネット会議" in message
    nothing_stored(bot.rt.engine)
    # the same cases are lawful at a さぽネット会議
    view = form(bot, "さぽネット")
    answer = submit(bot, COORD, view, values(cases=[cases["marugoto"], cases["saponet"]]))
    assert answer["response_action"] == "update", answer


# --- rule 3: リンクネット会議 never takes a case or personal data ---


def test_linknet_refuses_a_case_even_in_a_crafted_request(bot, cases):
    view = form(bot, "linknet")
    assert "cases" not in {b.get("block_id") for b in view["blocks"]}
    crafted = values(members=[COORD, "U0DEPT1"], repeat="none")
    crafted["cases"] = {"type": "multi_external_select", "selected_options": [{"value": "1"}]}
    view_with_case = {**view}
    answer = submit(bot, COORD, view_with_case, crafted)
    assert answer["response_action"] == "errors"
    assert "リンクネット会議ではケースを扱えません" in answer["errors"]["kind"]
    nothing_stored(bot.rt.engine)


@pytest.mark.parametrize(
    "topic", ["R8-0001 の世帯について", "連絡先 0266-00-0000 の件", "ｒ８ー０００２"]
)
def test_linknet_refuses_topics_that_look_personal(bot, topic):
    view = form(bot, "linknet")
    answer = submit(
        bot,
        COORD,
        view,
        values(members=[COORD, "U0DEPT1"], topics=f"事業の実施状況\n{topic}", repeat="none"),
    )
    assert set(answer["errors"]) == {"topics"}
    nothing_stored(bot.rt.engine)


# --- the coordinator only ------------------------------------------------------------------------


def test_a_window_cannot_schedule_even_with_a_forged_form(bot):
    view = form(bot)
    answer = submit(bot, "U0WIN1", view, values())
    assert answer["response_action"] == "update"
    assert "重層推進室" in text_of(answer["view"])
    nothing_stored(bot.rt.engine)
    [refusal] = audits(bot.rt.engine, "manage_meeting")
    assert refusal.allowed is False and refusal.actor_slack_id == "U0WIN1"


def test_a_meeting_in_the_past_is_refused_on_the_date(bot):
    view = form(bot)
    answer = submit(bot, COORD, view, values(date="2026-11-27", time="09:00"))
    assert set(answer["errors"]) == {"date"}
    nothing_stored(bot.rt.engine)


# --- scheduled: invitations, reminders, agenda ---------------------------------------------------


def schedule_saponet(bot, cases, **over) -> Meeting:
    view = form(bot)
    answer = submit(bot, COORD, view, values(cases=[cases["saponet"]], **over))
    assert answer["response_action"] == "update", answer
    assert "登録しました" in text_of(answer["view"])
    [meeting] = meetings(bot.rt.engine)
    return meeting


def test_attendees_are_invited_with_the_agenda_and_reminded_at_business_times(bot, cases, clock):
    meeting = schedule_saponet(bot, cases)
    bot.deliver()
    [invite] = [m for m in dms(bot, "U0WIN1") if "invite" in text_of(m.get("metadata"))]
    assert "さぽネット会議" in invite["text"] and "12月7日（月）10:00" in invite["text"]
    assert "役場 第1会議室" in text_of(invite["blocks"])
    assert has_button(invite["blocks"], "meeting_agenda", str(meeting.id))
    for value in PERSONAL:
        assert value not in text_of(invite)
    # Monday 10:00: the business day before at opening (Friday 8:30) and an hour before (9:00)
    due = sorted(
        (r.rule, local(r.deliver_at))
        for r in reminders(bot.rt.engine)
        if r.rule.startswith("meeting")
    )
    assert due == [
        ("meeting_eve", "2026-12-04 08:30"),
        ("meeting_eve", "2026-12-04 08:30"),
        ("meeting_soon", "2026-12-07 09:00"),
        ("meeting_soon", "2026-12-07 09:00"),
    ]
    clock.at = jst("2026-12-04 08:29")
    assert bot.rt.scheduler.tick().sent == []
    clock.at = jst("2026-12-04 08:30")
    assert len(bot.rt.scheduler.tick().sent) == 2
    bot.deliver()
    [eve] = [m for m in dms(bot, "U0WIN1") if m["text"].startswith("【会議のお知らせ】")]
    assert has_button(eve["blocks"], "meeting_agenda", str(meeting.id))
    clock.at = jst("2026-12-07 09:00")
    assert len(bot.rt.scheduler.tick().sent) == 2
    bot.deliver()
    assert any(m["text"].startswith("まもなく") for m in dms(bot, COORD))


def test_the_agenda_lists_receipt_numbers_and_details_are_for_entitled_attendees(bot, cases):
    meeting = schedule_saponet(bot, cases)
    bot.deliver()
    [invite] = [m for m in dms(bot, "U0WIN1") if "invite" in text_of(m.get("metadata"))]
    before = click_message(bot, "U0WIN1", invite, "meeting_agenda", str(meeting.id))
    agenda = new_view(bot, before)
    assert "さぽネット会議（支援会議） 次第" in text_of(agenda)
    assert "R8-0001" in text_of(agenda)
    for value in PERSONAL:
        assert value not in text_of(agenda)
    value = f"{meeting.id}:{cases['saponet']}"
    assert has_button(agenda["blocks"], "meeting_case", value)
    before = click_view(bot, "U0WIN1", agenda, "meeting_case", value)
    detail = new_view(bot, before)
    assert "辰野 試験子" in text_of(detail)  # a bound attendee of the 支援会議 may see the person
    [seen] = audits(bot.rt.engine, "view_meeting_case")
    assert seen.allowed and seen.case_id == cases["saponet"] and seen.actor_slack_id == "U0WIN1"


def test_someone_not_invited_is_refused_the_agenda_and_the_case(bot, cases):
    meeting = schedule_saponet(bot, cases)
    bot.deliver()
    [invite] = [m for m in dms(bot, "U0WIN1") if "invite" in text_of(m.get("metadata"))]
    seen = len(bot.slack.ephemerals("U0KODOMO1"))
    opened = len(bot.slack.views_opened())
    click_message(bot, "U0KODOMO1", invite, "meeting_agenda", str(meeting.id))
    assert "あなたが見られる会議ではありません" in ephemeral_after(bot, "U0KODOMO1", seen)
    assert len(bot.slack.views_opened()) == opened
    # a forged 詳細 click on a case of that meeting
    forged = {
        **invite,
        "blocks": [
            {
                "type": "actions",
                "block_id": "x",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "meeting_case",
                        "value": f"{meeting.id}:{cases['saponet']}",
                        "text": {"type": "plain_text", "text": "x"},
                    }
                ],
            }
        ],
    }
    seen = len(bot.slack.ephemerals("U0KODOMO1"))
    click_message(bot, "U0KODOMO1", forged, "meeting_case")
    assert "あなたが見られる会議ではありません" in ephemeral_after(bot, "U0KODOMO1", seen)
    refused = [
        a for a in audits(bot.rt.engine) if not a.allowed and a.actor_slack_id == "U0KODOMO1"
    ]
    assert {a.action for a in refused} == {"view_meeting", "view_meeting_case"}


# --- move and cancel: attendees told, reminders follow -------------------------------------------


def meeting_modal(bot, meeting_id: int) -> dict:
    view = command(bot, COORD, f"meeting {meeting_id}")
    assert view["callback_id"] == "meeting_show", view
    return view


def test_moving_a_meeting_moves_its_reminders_and_tells_the_attendees(bot, cases, clock):
    meeting = schedule_saponet(bot, cases)
    clock.at = jst("2026-12-04 08:30")
    assert len(bot.rt.scheduler.tick().sent) == 2  # the eve reminders went out already
    clock.at = jst("2026-12-04 10:00")
    bot.deliver()
    view = meeting_modal(bot, meeting.id)
    before = click_view(bot, COORD, view, "meeting_reschedule", str(meeting.id))
    form_view = new_view(bot, before)
    answer = submit(
        bot, COORD, form_view, {"date": "2026-12-15", "time": "14:00", "place": "役場 第2会議室"}
    )
    assert answer["response_action"] == "update", answer
    assert "12月15日（火）14:00" in text_of(answer["view"])
    open_ = [r for r in reminders(bot.rt.engine, state="pending")]
    assert sorted((r.rule, local(r.due_at)) for r in open_) == [
        ("meeting_eve", "2026-12-14 08:30"),  # new ones: the first were sent
        ("meeting_eve", "2026-12-14 08:30"),
        ("meeting_soon", "2026-12-15 13:00"),  # moved
        ("meeting_soon", "2026-12-15 13:00"),
    ]
    bot.deliver()
    moved = [m for m in dms(bot, "U0WIN1") if "変わりました" in m["text"]]
    assert len(moved) == 1 and "役場 第2会議室" in text_of(moved[0]["blocks"])
    clock.at = jst("2026-12-07 09:00")  # the old time: nothing
    assert bot.rt.scheduler.tick().sent == []
    clock.at = jst("2026-12-14 08:30")
    assert len(bot.rt.scheduler.tick().sent) == 2


def test_a_stale_form_does_not_move_a_meeting_moved_meanwhile(bot, cases):
    meeting = schedule_saponet(bot, cases)
    view = meeting_modal(bot, meeting.id)
    first = new_view(bot, click_view(bot, COORD, view, "meeting_reschedule", str(meeting.id)))
    second = new_view(bot, click_view(bot, COORD, view, "meeting_reschedule", str(meeting.id)))
    assert (
        submit(bot, COORD, first, {"date": "2026-12-08", "time": "10:00"})["response_action"]
        == "update"
    )
    answer = submit(bot, COORD, second, {"date": "2026-12-09", "time": "10:00"})
    assert "ほかの方" in answer["errors"]["date"]
    assert local(meetings(bot.rt.engine)[0].starts_at) == "2026-12-08 10:00"


def test_cancelling_a_meeting_cancels_its_reminders_and_tells_the_attendees(bot, cases, clock):
    meeting = schedule_saponet(bot, cases)
    view = meeting_modal(bot, meeting.id)
    cancel_form = new_view(bot, click_view(bot, COORD, view, "meeting_cancel", str(meeting.id)))
    assert submit(bot, COORD, cancel_form, {})["response_action"] == "update"
    assert meetings(bot.rt.engine)[0].state == "cancelled"
    assert reminders(bot.rt.engine, state="pending") == []
    bot.deliver()
    assert any("取りやめ" in m["text"] for m in dms(bot, "U0WIN1"))
    assert not any(
        "invite" in key for key in map(lambda m: text_of(m.get("metadata")), dms(bot, "U0WIN1"))
    )
    clock.at = jst("2026-12-04 08:30")
    assert bot.rt.scheduler.tick().sent == []


def test_only_the_coordinator_moves_or_cancels(bot, cases):
    meeting = schedule_saponet(bot, cases)
    bot.deliver()
    view = meeting_modal(bot, meeting.id)
    seen = len(bot.slack.ephemerals("U0WIN1"))
    opened = len(bot.slack.views_opened())
    # the attendee's own view of the meeting has no such buttons; a forged click is refused
    mine = command(bot, "U0WIN1", f"meeting {meeting.id}")
    assert not has_button(mine["blocks"], "meeting_cancel")
    forged = {**view, "id": mine["id"]}
    click_view(bot, "U0WIN1", forged, "meeting_cancel", str(meeting.id))
    refusal = bot.slack.wait_for(
        lambda: (
            [v for v in bot.slack.views_opened()[opened + 1 :] if "重層推進室" in text_of(v)]
            or bot.slack.ephemerals("U0WIN1")[seen:]
        )
    )
    assert refusal
    assert meetings(bot.rt.engine)[0].state == "scheduled"


# --- the recurring Link-net meeting --------------------------------------------------------------


def test_a_monthly_linknet_meeting_follows_the_business_calendar(bot, clock):
    view = form(bot, "linknet")
    answer = submit(
        bot,
        COORD,
        view,
        values(
            date="2026-12-22",  # the 4th Tuesday
            time="13:30",
            members=[COORD, "U0DEPT1"],
            topics="事業の実施状況\n参加支援の資源について",
            repeat="same_week",
        ),
    )
    assert answer["response_action"] == "update", answer
    assert "毎月の定例会" in text_of(answer["view"])
    job = next(j for j in bot.rt.scheduler.jobs if j.name == "meeting_series")
    clock.at = jst("2027-01-04 07:00")
    bot.rt.scheduler.run_job(job)
    bot.rt.scheduler.run_job(job)  # twice: nothing doubled
    starts = [local(m.starts_at) for m in meetings(bot.rt.engine)]
    # January: the 4th Tuesday; February: the 4th Tuesday is 天皇誕生日 → the next business day
    assert starts == ["2026-12-22 13:30", "2027-01-26 13:30", "2027-02-24 13:30"]
    assert all(m.kind == "linknet" and m.series_id for m in meetings(bot.rt.engine))
    bot.deliver()
    invites = [m for m in dms(bot, "U0DEPT1") if "invite" in text_of(m.get("metadata"))]
    assert len(invites) == 3
    # the whole series stops from the cancel form
    january = meetings(bot.rt.engine)[1]
    clock.at = jst("2027-01-05 10:00")
    view = meeting_modal(bot, january.id)
    cancel_form = new_view(bot, click_view(bot, COORD, view, "meeting_cancel", str(january.id)))
    answer = submit(bot, COORD, cancel_form, {"series": ["stop"]})
    assert "定例会もやめました" in text_of(answer["view"])
    assert [m.state for m in meetings(bot.rt.engine)] == ["scheduled", "cancelled", "cancelled"]
    clock.at = jst("2027-03-01 07:00")
    bot.rt.scheduler.run_job(job)
    assert len(meetings(bot.rt.engine)) == 3


# --- a Link-net meeting's minutes: no personal data ----------------------------------------------


def test_linknet_minutes_contain_no_personal_data(bot, cases, clock, monkeypatch, capsys, db_url):
    from bot.cli.main import main
    from tests.conftest import TEST_KEY

    view = form(bot, "linknet")
    answer = submit(
        bot,
        COORD,
        view,
        values(members=[COORD, "U0DEPT1"], topics="事業の実施状況\n参加支援の資源", repeat="none"),
    )
    assert answer["response_action"] == "update", answer
    [meeting] = meetings(bot.rt.engine)
    clock.at = jst("2026-12-07 11:00")
    modal = meeting_modal(bot, meeting.id)
    record = new_view(bot, click_view(bot, COORD, modal, "meeting_record", str(meeting.id)))
    # a note that names a case is refused; the form is answered on its field
    answer = submit(bot, COORD, record, {"topics": "事業の実施状況", "notes": "R8-0001 は順調"})
    assert set(answer["errors"]) == {"notes"}
    answer = submit(
        bot,
        COORD,
        record,
        {"topics": "事業の実施状況\n参加支援の資源", "notes": "居場所の資源を増やす方向で検討する"},
    )
    assert answer["response_action"] == "update", answer
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    assert main(["minutes", "export", str(meeting.id)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# リンクネット会議 議事録")
    assert "居場所の資源を増やす方向で検討する" in out and "参加支援の資源" in out
    # nothing about a person, although cases exist in the database
    for value in (*PERSONAL, "R8-0001", "R8-0002", "U0"):
        assert value not in out
    # the attendees (departments) may read it in Slack
    before = click_view(
        bot,
        "U0DEPT1",
        command(bot, "U0DEPT1", f"meeting {meeting.id}"),
        "meeting_minutes",
        str(meeting.id),
    )
    assert "居場所の資源" in text_of(new_view(bot, before))


def test_the_home_tab_opens_the_form_and_lists_meetings(bot, cases):
    from tests.support.meetings import fresh_home

    home = fresh_home(bot, COORD)
    view = new_view(bot, click_view(bot, COORD, home, "meeting_new", "saponet"))
    assert view["callback_id"] == "meeting_schedule"
    meeting = schedule_saponet(bot, cases)
    home = fresh_home(bot, COORD)
    assert has_button(home["blocks"], "meeting_open", str(meeting.id))
    assert "さぽネット会議（1件）" in text_of(home)


def test_the_manifest_asks_slack_for_the_cases_options(capsys):
    import yaml

    from bot.cli.main import main

    assert main(["manifest", "--http-url", "https://tsunagi.example.jp"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["settings"]["interactivity"]["message_menu_options_url"] == (
        "https://tsunagi.example.jp/slack/events"
    )


def test_the_linknet_agenda_carries_the_last_published_figures_only(bot):
    from models.base.db import transaction
    from models.linknet.posting import post
    from reminders.linknet_job import ack_deadline_function
    from tests.linknet.test_linknet_figures import OCTOBER, october

    october(bot.rt.engine)
    with transaction(bot.rt.engine) as session:
        post(session, month=OCTOBER, now=START, deadline=ack_deadline_function(session))
    view = form(bot, "linknet")
    answer = submit(bot, COORD, view, values(members=[COORD, "U0DEPT1"], repeat="none"))
    assert answer["response_action"] == "update", answer
    [meeting] = meetings(bot.rt.engine)
    mine = command(bot, "U0DEPT1", f"meeting {meeting.id}")
    agenda = new_view(bot, click_view(bot, "U0DEPT1", mine, "meeting_agenda", str(meeting.id)))
    text = text_of(agenda)
    assert "最新の集計（2026年10月）" in text and "新規つなぎメモ（分野別）：" in text
    assert "R8-" not in text and not has_button(agenda["blocks"], "meeting_case")
    for value in PERSONAL:
        assert value not in text
