"""A meeting's reminders already posted, once the meeting is cancelled, moved or held: each is
rewritten (chat.update through the outbox) to one text — what happened, who, when — with no
button left; after a move, new reminders follow the new time. Read back from the stand-in."""

from __future__ import annotations

from tests.meetings.test_meetings_e2e import cases, form, meeting_modal, schedule_saponet, values
from tests.support.meetings import (
    COORD,
    click_view,
    dms,
    jst,
    meetings,
    new_view,
    submit,
    text_of,
)

__all__ = ["cases"]  # the fixture


def posted_eve(bot, clock, user: str = "U0WIN1") -> dict:
    """The eve reminders go out (Friday 12/4 08:30 for Monday 12/7 10:00): the one `user` got."""
    clock.at = jst("2026-12-04 08:30")
    assert len(bot.rt.scheduler.tick().sent) == 2
    bot.deliver()
    [eve] = [m for m in dms(bot, user) if m["text"].startswith("【会議のお知らせ】")]
    assert any(b["type"] == "actions" for b in eve["blocks"])  # 次第を見る, while it stands
    return eve


def now_reads(bot, message: dict) -> dict:
    """The same message as Slack holds it now (after the bot's chat.update)."""
    [found] = [m for m in bot.slack.messages(message["channel"]) if m["ts"] == message["ts"]]
    return found


def no_buttons(message: dict) -> None:
    assert all(b["type"] != "actions" for b in message["blocks"]), message["blocks"]
    assert "button" not in text_of(message["blocks"])


def test_a_cancelled_meeting_rewrites_its_posted_reminders(bot, cases, clock):
    meeting = schedule_saponet(bot, cases)
    eve = posted_eve(bot, clock)
    clock.at = jst("2026-12-04 10:15")
    view = meeting_modal(bot, meeting.id)
    cancel_form = new_view(bot, click_view(bot, COORD, view, "meeting_cancel", str(meeting.id)))
    assert submit(bot, COORD, cancel_form, {})["response_action"] == "update"
    bot.deliver()
    after = now_reads(bot, eve)
    expected = (
        "✖️ さぽネット会議（2026年12月7日（月）10:00〜11:00）：12/4 10:15に<@U0COORD>さんが"
        "この会議を取り消しました。"
    )
    assert after["blocks"][0]["text"]["text"] == expected
    assert after["text"] == expected
    assert "次の開庁日" not in text_of(after) and "場所" not in after["blocks"][0]["text"]["text"]
    no_buttons(after)
    [update] = [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == eve["ts"]]
    assert update.args["text"] == expected


def test_a_moved_meeting_rewrites_its_posted_reminders_and_new_ones_follow(bot, cases, clock):
    meeting = schedule_saponet(bot, cases)
    eve = posted_eve(bot, clock)
    clock.at = jst("2026-12-04 10:15")
    view = meeting_modal(bot, meeting.id)
    form_view = new_view(bot, click_view(bot, COORD, view, "meeting_reschedule", str(meeting.id)))
    answer = submit(bot, COORD, form_view, {"date": "2026-12-15", "time": "14:00"})
    assert answer["response_action"] == "update", answer
    bot.deliver()
    after = now_reads(bot, eve)
    expected = (
        "🔁 さぽネット会議（2026年12月7日（月）10:00〜11:00）：12/4 10:15に<@U0COORD>さんが"
        "日時を2026年12月15日（火）14:00〜15:00に変更しました。新しい日時の前に、あらためてお知らせします。"
    )
    assert after["blocks"][0]["text"]["text"] == expected
    no_buttons(after)
    # The new reminders follow the new date and ask as before; the old message stays as it is.
    clock.at = jst("2026-12-14 08:30")
    assert len(bot.rt.scheduler.tick().sent) == 2
    bot.deliver()
    [new] = [m for m in dms(bot, "U0WIN1") if m["text"].startswith("【会議のお知らせ】")]
    assert new["ts"] != eve["ts"] and "2026年12月15日（火）14:00" in new["text"]
    assert any(b["type"] == "actions" for b in new["blocks"])
    assert now_reads(bot, eve)["blocks"][0]["text"]["text"] == expected
    # Moved again: the first message still names the time it announced, and the latest one.
    clock.at = jst("2026-12-14 09:00")
    view = meeting_modal(bot, meeting.id)
    form_view = new_view(bot, click_view(bot, COORD, view, "meeting_reschedule", str(meeting.id)))
    submit(bot, COORD, form_view, {"date": "2026-12-16", "time": "14:00"})
    bot.deliver()
    first, second = (now_reads(bot, m)["blocks"][0]["text"]["text"] for m in (eve, new))
    assert first.startswith("🔁 さぽネット会議（2026年12月7日（月）10:00〜11:00）：12/14 09:00に")
    assert second.startswith("🔁 さぽネット会議（2026年12月15日（火）14:00〜15:00）：12/14 09:00に")
    assert "日時を2026年12月16日（水）14:00〜15:00に変更しました" in first and second.endswith("。")


def test_a_held_meeting_rewrites_its_posted_reminders(bot, clock):
    answer = submit(
        bot,
        COORD,
        form(bot, "linknet"),
        values(members=[COORD, "U0DEPT1"], topics="事業の実施状況", repeat="none"),
    )
    assert answer["response_action"] == "update", answer
    [meeting] = meetings(bot.rt.engine)
    eve = posted_eve(bot, clock, "U0DEPT1")
    clock.at = jst("2026-12-07 11:30")
    modal = meeting_modal(bot, meeting.id)
    record = new_view(bot, click_view(bot, COORD, modal, "meeting_record", str(meeting.id)))
    answer = submit(bot, COORD, record, {"topics": "事業の実施状況", "notes": "次回も同じ議題"})
    assert answer["response_action"] == "update", answer
    bot.deliver()
    after = now_reads(bot, eve)
    text = after["blocks"][0]["text"]["text"]
    assert text == (
        "✅ リンクネット会議（2026年12月7日（月）10:00〜11:00）は開催されました"
        "（12/7 11:30に<@U0COORD>さんが記録しました）。"
    )
    no_buttons(after)
    # The record corrected later: the message keeps saying who recorded it first, and when.
    updates = len(bot.slack.calls_to("chat.update"))
    clock.at = jst("2026-12-08 09:00")
    record = new_view(
        bot,
        click_view(bot, COORD, meeting_modal(bot, meeting.id), "meeting_record", str(meeting.id)),
    )
    submit(bot, COORD, record, {"topics": "事業の実施状況", "notes": "次回も同じ議題です"})
    bot.deliver()
    assert len(bot.slack.calls_to("chat.update")) == updates
    assert now_reads(bot, eve)["blocks"][0]["text"]["text"] == text
