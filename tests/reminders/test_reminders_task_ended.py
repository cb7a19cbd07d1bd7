"""A task's reminders already posted (期限が近づいて… / 期限を過ぎて…) lose their buttons and say
the task has ended once it is done or ended — end to end: signed clicks, the strict stand-in."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from models.base.db import transaction
from models.cases.lifecycle import CaseState
from models.plans import tasks as plans
from models.plans.tables import PlanTask
from reminders import plans as plan_reminders
from tests.conftest import START
from tests.intake.test_intake_e2e import PERSONAL
from tests.plans.test_plans_e2e import evaluation_form, updates_of
from tests.support.desk import agency, bring_to, member, new_case
from tests.support.meetings import (
    COORD,
    click_message,
    ephemeral_after,
    has_button,
    key_of,
    reminders,
    submit,
    text_of,
)

TASK_TEXT = "見守り訪問（週1回）"


@pytest.fixture
def planned(bot):
    """R8-0001 in support with a plan (made through the domain, as a たつのまるごと会議's outcome
    does): one task of 高齢者相談支援センター due 2026-12-21, its reminders and the review."""
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.support, START)
    with transaction(engine) as s:
        plan = plans.make_plan(
            s,
            case_id=case_id,
            goals=["買い物の支援を受けられる"],
            review_on=date(2027, 2, 1),
            tasks=[
                {
                    "agency_id": agency(s, "houkatsu").id,
                    "what": TASK_TEXT,
                    "due_on": date(2026, 12, 21),
                }
            ],
            created_by_id=member(s, COORD).id,
            at=START,
        )
        [task] = plans.plan_tasks(s, plan.id)
        plans.tell_task_owner(s, task, event="assigned", at=START)
        plan_reminders.schedule_task_reminders(s, task, at=START)
        plan_reminders.schedule_plan_review(s, plan, at=START)
        task_id = task.id
    bot.deliver()
    return {"case": case_id, "task": task_id}


def task_state(engine, task_id: int) -> str:
    with Session(engine) as s:
        return s.get(PlanTask, task_id).state


def posted_reminder(bot, clock, channel: str, task_id: int) -> dict:
    """The task_due reminder of the task, posted in `channel` at its time (with its buttons)."""
    [due] = [r for r in reminders(bot.rt.engine, rule="task_due") if r.subject_id == str(task_id)]
    clock.at = due.deliver_at
    bot.rt.scheduler.tick()
    bot.deliver()
    [message] = [
        m for m in bot.slack.messages(channel) if key_of(m).startswith(f"reminder:{due.id}:")
    ]
    assert message["text"].startswith("【役割の期限】")
    assert has_button(message["blocks"], "task_done", str(task_id))
    return message


def no_buttons(blocks: list[dict]) -> bool:
    return not any(b["type"] == "actions" for b in blocks)


def test_a_task_done_from_its_reminder_updates_that_reminder_without_buttons(bot, planned, clock):
    task_id = planned["task"]  # 高齢者相談支援センター's task: its channel is reminded
    message = posted_reminder(bot, clock, "C0HOUKATSU", task_id)
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", message, "task_done", str(task_id))
    assert "完了にしました" in ephemeral_after(bot, "U0WIN1", seen)
    assert task_state(bot.rt.engine, task_id) == "done"
    bot.deliver()
    [update] = updates_of(bot, message)
    assert update.ok and update.args["channel"] == "C0HOUKATSU"
    [now] = [m for m in bot.slack.messages("C0HOUKATSU") if m["ts"] == message["ts"]]
    assert no_buttons(now["blocks"])
    assert "12/18 08:30に<@U0WIN1>さんが完了にしました。" in text_of(now["blocks"])
    assert "R8-0001" in text_of(now["blocks"])
    assert all(p not in text_of(now) for p in [TASK_TEXT, *PERSONAL])  # pointers only
    bot.deliver()  # nothing more to say: one update only
    assert len(updates_of(bot, message)) == 1


def test_a_snoozed_task_reminder_done_drops_its_follow_up_and_its_buttons(bot, planned, clock):
    task_id = planned["task"]
    message = posted_reminder(bot, clock, "C0HOUKATSU", task_id)
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", message, "reminder_snooze_tomorrow")
    assert "もう一度お知らせします" in ephemeral_after(bot, "U0WIN1", seen)
    bot.deliver()
    snoozed = updates_of(bot, message)[-1]
    assert "もう一度お知らせするよう設定しました" in text_of(snoozed.args["blocks"])
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", message, "task_done", str(task_id))
    assert "完了にしました" in ephemeral_after(bot, "U0WIN1", seen)
    bot.deliver()
    last = updates_of(bot, message)[-1]
    assert last.ok and no_buttons(last.args["blocks"])
    assert "さんが完了にしました。" in text_of(last.args["blocks"])
    assert "もう一度お知らせ" not in text_of(last.args["blocks"])
    follow_ups = [
        r for r in reminders(bot.rt.engine, rule="task_due") if r.snoozed_from_id is not None
    ]
    assert [r.state for r in follow_ups] == ["cancelled"]


def test_task_reminders_of_a_closed_case_say_the_task_ended(bot, planned, clock):
    task_id = planned["task"]
    message = posted_reminder(bot, clock, "C0HOUKATSU", task_id)
    form = evaluation_form(bot, clock)
    answer = submit(
        bot, COORD, form, {"result": "achieved", "decision": "close", "close_reason": "resolved"}
    )
    assert answer["response_action"] == "update", answer
    bot.deliver()
    assert task_state(bot.rt.engine, task_id) == "cancelled"
    [update] = updates_of(bot, message)
    assert update.ok and no_buttons(update.args["blocks"])
    assert "終了（プランの見直し、またはケースの終結・中断）" in text_of(update.args["blocks"])


def test_a_click_on_an_ended_tasks_reminder_changes_nothing(bot, planned, clock):
    task_id = planned["task"]
    message = posted_reminder(bot, clock, "C0HOUKATSU", task_id)
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", message, "task_done", str(task_id))
    assert "完了にしました" in ephemeral_after(bot, "U0WIN1", seen)  # done before the next click
    bot.deliver()
    # A stale copy of the reminder (still showing its buttons) is clicked again.
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", message, "reminder_snooze_tomorrow")
    assert "もう必要ありません" in ephemeral_after(bot, "U0WIN1", seen)
    bot.deliver()
    assert len(updates_of(bot, message)) == 1
    assert not [r for r in reminders(bot.rt.engine, state="pending") if r.rule == "task_due"]
