"""Outcomes, the support plan, tasks and the evaluation end to end: signed requests, the strict
Slack stand-in, reminders on an injected clock; and minutes (modal and `tsunagi minutes export`)."""

from __future__ import annotations

import functools

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from models.base.db import transaction
from models.cases.lifecycle import CaseState
from models.cases.tables import Case
from models.org.tables import Agency
from models.plans import resources
from models.plans.tables import Plan, PlanTask
from models.plans.tasks import complete_task
from models.queues.tables import Notice
from tests.conftest import START, TEST_KEY
from tests.desk.test_enumeration_buttons import forge, same_answer
from tests.intake.test_intake_e2e import PERSONAL
from tests.support.desk import agency, bring_to, give_consent, member, new_case
from tests.support.meetings import (
    COORD,
    audits,
    click_message,
    click_view,
    command,
    dms,
    ephemeral_after,
    fresh_home,
    has_button,
    jst,
    key_of,
    local,
    meetings,
    new_view,
    reminders,
    submit,
    text_of,
)

DIRECTION = "試験の支援方針：週1回の見守りと、地域のサロンへの参加"
TASK_TEXT = "見守り訪問（週1回）"


@pytest.fixture
def world(bot):
    """R8-0001 at the たつのまるごと会議 (consent covers 高齢者相談支援センター and 民生児童委員,
    so both may attend it); a salon."""
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.marugoto, START)
    with transaction(engine) as s:
        give_consent(s, s.get(Case, case_id), member(s, COORD), START, ("houkatsu", "minsei"))
        resources.apply(
            s, [{"key": "salon-test", "name": "試験サロン", "kind": "salon", "description": None}]
        )
        ids = {a.key: a.id for a in s.exec(select(Agency))}
        salon = s.exec(select(resources.Resource)).one().id
    bot.deliver()
    return {"case": case_id, "agency": ids, "salon": salon}


def schedule(bot, kind: str, **over) -> int:
    view = command(bot, COORD, f"meeting {kind}")
    values = {
        "date": "2026-12-07",
        "time": "10:00",
        "length": "60",
        "members": [COORD, "U0WIN1", "U0SUPPORT1"],
        "remind": "60",
    }
    values.update(over)
    answer = submit(bot, COORD, view, values)
    assert answer["response_action"] == "update", answer
    return meetings(bot.rt.engine)[-1].id


def outcome_form(bot, meeting_id: int, case_id: int) -> dict:
    view = command(bot, COORD, f"meeting {meeting_id}")
    return new_view(bot, click_view(bot, COORD, view, "meeting_outcome", f"{meeting_id}:{case_id}"))


def outcome_values(world, **over) -> dict:
    a = world["agency"]
    values = {
        "direction": DIRECTION,
        "lead": str(a["houkatsu"]),
        "next_step": "start_support",
        "review_on": "2027-02-01",
        "goals": "買い物の支援を受けられる\n地域のサロンに通う",
        "task_agency_0": str(a["minsei"]),
        "task_what_0": TASK_TEXT,
        "task_due_0": "2026-12-21",
        "task_resource_0": str(world["salon"]),
        "task_agency_1": str(a["houkatsu"]),
        "task_what_1": "介護保険の申請の支援",
        "task_due_1": "2027-01-08",  # a Friday before 成人の日
    }
    values.update(over)
    return values


@pytest.fixture
def planned(bot, world, clock):
    meeting_id = schedule(bot, "まるごと", cases=[world["case"]])
    clock.at = jst("2026-12-07 11:00")
    form = outcome_form(bot, meeting_id, world["case"])
    answer = submit(bot, COORD, form, outcome_values(world))
    assert answer["response_action"] == "update", answer
    assert "第1版" in text_of(answer["view"])
    bot.deliver()
    return {**world, "meeting": meeting_id}


def tasks(engine) -> list[PlanTask]:
    with Session(engine) as s:
        return list(s.exec(select(PlanTask).order_by(PlanTask.id)))


def case_of(engine, case_id) -> Case:
    with Session(engine) as s:
        return s.get(Case, case_id)


# --- the outcome ---------------------------------------------------------------------------------


def test_an_outcome_makes_the_plan_sets_the_lead_and_tells_each_agency(bot, planned):
    engine = bot.rt.engine
    case = case_of(engine, planned["case"])
    assert case.state == CaseState.support
    assert case.lead_agency_id == planned["agency"]["houkatsu"]
    with Session(engine) as s:
        [plan] = s.exec(select(Plan)).all()
        assert (plan.version, plan.goals) == (1, ["買い物の支援を受けられる", "地域のサロンに通う"])
    first, _ = tasks(engine)
    assert (first.what, first.resource_id) == (TASK_TEXT, planned["salon"])
    # the referrer hears that the lead is decided (receipt number only)
    assert any("R8-0001" in m["text"] for m in dms(bot, "U0PARTNER1"))
    # 民生児童委員 has no channel: a DM to its member; 高齢者 its channel
    [assigned] = [m for m in dms(bot, "U0SUPPORT1") if "役割分担が届きました" in m["text"]]
    assert has_button(assigned["blocks"], "task_open", str(first.id))
    assert any("役割分担が届きました" in m["text"] for m in bot.slack.messages("C0HOUKATSU"))
    for message in [assigned, *bot.slack.messages("C0HOUKATSU")]:
        assert TASK_TEXT not in text_of(message) and DIRECTION not in text_of(message)
        for value in PERSONAL:
            assert value not in text_of(message)


def test_the_outcome_form_refuses_bad_input_and_changes_nothing(bot, world, clock):
    meeting_id = schedule(bot, "まるごと", cases=[world["case"]])
    # before the meeting: no outcome yet
    view = command(bot, COORD, f"meeting {meeting_id}")
    assert not has_button(view["blocks"], "meeting_outcome")
    clock.at = jst("2026-12-07 11:00")
    form = outcome_form(bot, meeting_id, world["case"])
    answer = submit(
        bot,
        COORD,
        form,
        outcome_values(world, direction="", goals="", review_on="2026-12-01", task_what_0=""),
    )
    assert answer["response_action"] == "errors"
    assert {"direction", "goals", "review_on", "task_what_0"} <= set(answer["errors"])
    assert tasks(bot.rt.engine) == []
    assert case_of(bot.rt.engine, world["case"]).state == CaseState.marugoto


def test_the_minutes_hold_the_outcome_and_only_attendees_read_them(bot, planned):
    view = command(bot, COORD, f"meeting {planned['meeting']}")
    assert has_button(view["blocks"], "meeting_minutes")
    before = click_view(bot, COORD, view, "meeting_share_minutes", str(planned["meeting"]))
    assert "議事録のお知らせ" in text_of(new_view(bot, before))  # the answer, once queued
    bot.deliver()
    [ready] = [m for m in dms(bot, "U0WIN1") if "議事録ができました" in m["text"]]
    before = click_message(bot, "U0WIN1", ready, "meeting_minutes", str(planned["meeting"]))
    minutes = new_view(bot, before)
    text = text_of(minutes)
    assert DIRECTION in text and TASK_TEXT in text and "第1版" in text and "試験サロン" in text
    assert any(a.allowed and "minutes" in (a.detail or "") for a in audits(bot.rt.engine))
    seen = len(bot.slack.ephemerals("U0KODOMO1"))
    click_message(bot, "U0KODOMO1", ready, "meeting_minutes", str(planned["meeting"]))
    assert "あなたが見られる会議ではありません" in ephemeral_after(bot, "U0KODOMO1", seen)


def test_minutes_export_writes_markdown(bot, planned, monkeypatch, capsys, tmp_path, db_url):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    assert main(["minutes", "export", str(planned["meeting"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# たつのまるごと会議 議事録")
    assert "## R8-0001" in out and DIRECTION in out
    target = tmp_path / "minutes.md"
    assert main(["minutes", "export", str(planned["meeting"]), "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out
    assert main(["minutes", "export", "999"]) == 2
    assert "見つかりませんでした" in capsys.readouterr().err
    exports = audits(bot.rt.engine, "export_minutes")
    assert len(exports) == 2 and exports[0].actor_slack_id == "system"


# --- tasks: the owning agency, reminders at business times ---------------------------------------


def test_task_reminders_fall_before_the_due_date_and_after_it_over_a_holiday(bot, planned, clock):
    first, second = tasks(bot.rt.engine)
    due = sorted(
        (r.subject_id, r.rule, local(r.deliver_at))
        for r in reminders(bot.rt.engine)
        if r.rule.startswith("task")
    )
    assert due == sorted(
        [
            (str(first.id), "task_due", "2026-12-18 08:30"),  # Friday before Monday 12/21
            (str(first.id), "task_overdue", "2026-12-22 08:30"),
            (str(second.id), "task_due", "2027-01-07 08:30"),
            (str(second.id), "task_overdue", "2027-01-12 08:30"),  # after 成人の日 (1/11)
        ]
    )
    [review] = reminders(bot.rt.engine, rule="plan_review")
    assert local(review.deliver_at) == "2027-02-01 08:30"
    clock.at = jst("2027-01-12 08:30")
    bot.rt.scheduler.tick()
    bot.deliver()
    overdue = [m for m in bot.slack.messages("C0HOUKATSU") if "期限を過ぎています" in m["text"]]
    assert overdue and has_button(overdue[-1]["blocks"], "task_done", str(second.id))
    assert TASK_TEXT not in text_of(overdue)


def test_the_owning_agency_records_progress_and_marks_done(bot, planned):
    first, _ = tasks(bot.rt.engine)
    [assigned] = [m for m in dms(bot, "U0SUPPORT1") if "役割分担が届きました" in m["text"]]
    task_view = new_view(
        bot, click_message(bot, "U0SUPPORT1", assigned, "task_open", str(first.id))
    )
    assert TASK_TEXT in text_of(task_view)
    [viewed] = audits(bot.rt.engine, "view_task")
    assert viewed.allowed and viewed.case_id == planned["case"]
    progress = new_view(
        bot, click_message(bot, "U0SUPPORT1", assigned, "task_progress", str(first.id))
    )
    assert (
        submit(bot, "U0SUPPORT1", progress, {"note": "12/10 訪問しました"})["response_action"]
        == "update"
    )
    seen = len(bot.slack.ephemerals("U0SUPPORT1"))
    click_message(bot, "U0SUPPORT1", assigned, "task_done", str(first.id))
    assert "完了にしました" in ephemeral_after(bot, "U0SUPPORT1", seen)
    first = tasks(bot.rt.engine)[0]
    assert first.state == "done" and first.progress[0]["note"] == "12/10 訪問しました"
    mine = [r for r in reminders(bot.rt.engine) if r.subject_kind == "task"]
    assert [r.state for r in mine if r.subject_id == str(first.id)] == [
        "cancelled",
        "cancelled",
    ]


def test_another_agency_cannot_see_or_change_a_task(bot, planned):
    first, _ = tasks(bot.rt.engine)
    [assigned] = [m for m in dms(bot, "U0SUPPORT1") if "役割分担が届きました" in m["text"]]
    for action in ("task_open", "task_done", "task_progress"):
        seen = len(bot.slack.ephemerals("U0KODOMO1"))
        opened = len(bot.slack.views_opened())
        click_message(bot, "U0KODOMO1", assigned, action, str(first.id))
        assert "あなたの機関の役割ではありません" in ephemeral_after(bot, "U0KODOMO1", seen)
        assert len(bot.slack.views_opened()) == opened
    assert tasks(bot.rt.engine)[0].state == "open"
    refused = [
        a for a in audits(bot.rt.engine) if not a.allowed and a.actor_slack_id == "U0KODOMO1"
    ]
    assert {a.action for a in refused} == {"view_task", "update_task"}
    # the coordinator may
    seen = len(bot.slack.ephemerals(COORD))
    click_message(bot, COORD, assigned, "task_done", str(first.id))
    assert "完了にしました" in ephemeral_after(bot, COORD, seen)


def test_a_support_agency_with_a_task_sees_the_case_but_details_only_with_consent(bot, planned):
    with transaction(bot.rt.engine) as s:  # the person narrows the consent after the meeting
        give_consent(s, s.get(Case, planned["case"]), member(s, COORD), START, ("houkatsu",))
    view = command(bot, "U0SUPPORT1", f"meeting {planned['meeting']}")
    agenda = new_view(
        bot, click_view(bot, "U0SUPPORT1", view, "meeting_agenda", str(planned["meeting"]))
    )
    assert "R8-0001" in text_of(agenda)
    assert not has_button(agenda["blocks"], "meeting_case")  # consent does not cover 民生児童委員
    home = fresh_home(bot, "U0SUPPORT1")
    assert "R8-0001" in text_of(home) and has_button(home["blocks"], "task_open")


def test_the_coordinators_home_shows_meetings_tasks_and_what_is_late(bot, planned, clock):
    clock.at = jst("2027-01-12 09:00")
    home = fresh_home(bot, COORD)
    text = text_of(home)
    assert has_button(home["blocks"], "meeting_new")
    assert "支援プランの役割（進み具合）" in text and "期限を過ぎています" in text
    assert "R8-0001" in text and TASK_TEXT not in text


# --- the evaluation at the review date -----------------------------------------------------------


def evaluation_form(bot, clock) -> dict:
    clock.at = jst("2027-02-01 08:30")
    bot.rt.scheduler.tick()
    bot.deliver()
    [message] = [m for m in bot.slack.messages("C0COORD") if m["text"].startswith("【評価日】")]
    with Session(bot.rt.engine) as s:
        plan = s.exec(select(Plan)).one()
    return new_view(bot, click_message(bot, COORD, message, "plan_evaluate", str(plan.id)))


def test_the_review_date_reminds_and_a_replan_goes_back_to_marugoto(bot, planned, clock):
    form = evaluation_form(bot, clock)
    answer = submit(
        bot, COORD, form, {"result": "partly", "note": "一部達成", "decision": "replan"}
    )
    assert answer["response_action"] == "update", answer
    assert case_of(bot.rt.engine, planned["case"]).state == CaseState.marugoto
    with Session(bot.rt.engine) as s:
        plan = s.exec(select(Plan)).one()
        assert (plan.evaluation, plan.decision) == ("partly", "replan")
    # a second まるごと会議 revises the plan: version 2, version 1 kept
    meeting_id = schedule(bot, "まるごと", cases=[planned["case"]], date="2027-02-08")
    clock.at = jst("2027-02-08 11:00")
    form = outcome_form(bot, meeting_id, planned["case"])
    assert "買い物の支援を受けられる" in text_of(form)  # the plan's goals as a start
    answer = submit(
        bot,
        COORD,
        form,
        outcome_values(
            planned,
            goals="見直した目標",
            review_on="2027-05-06",
            task_due_0="2027-03-01",
            task_due_1="2027-03-05",
        ),
    )
    assert "第2版" in text_of(answer["view"])
    with Session(bot.rt.engine) as s:
        versions = [(p.version, p.current) for p in s.exec(select(Plan).order_by(Plan.version))]
    assert versions == [(1, False), (2, True)]


def test_closing_at_the_evaluation_needs_a_reason(bot, planned, clock):
    form = evaluation_form(bot, clock)
    answer = submit(bot, COORD, form, {"result": "achieved", "decision": "close"})
    assert "close_reason" in answer["errors"]
    assert case_of(bot.rt.engine, planned["case"]).state == CaseState.support
    answer = submit(
        bot, COORD, form, {"result": "achieved", "decision": "close", "close_reason": "resolved"}
    )
    assert answer["response_action"] == "update"
    assert case_of(bot.rt.engine, planned["case"]).state == CaseState.closed
    assert {t.state for t in tasks(bot.rt.engine)} == {"cancelled"}
    assert reminders(bot.rt.engine, state="pending") == []


def test_suspending_at_the_evaluation_needs_a_note(bot, planned, clock):
    form = evaluation_form(bot, clock)
    answer = submit(bot, COORD, form, {"result": "not_achieved", "decision": "suspend"})
    assert "note" in answer["errors"]
    answer = submit(
        bot, COORD, form, {"result": "not_achieved", "decision": "suspend", "note": "入院のため"}
    )
    assert answer["response_action"] == "update"
    assert case_of(bot.rt.engine, planned["case"]).state == CaseState.suspended


def test_only_the_coordinator_evaluates(bot, planned, clock):
    form = evaluation_form(bot, clock)
    answer = submit(bot, "U0WIN1", form, {"result": "achieved", "decision": "replan"})
    assert answer["response_action"] == "update" and "重層推進室" in text_of(answer["view"])
    with Session(bot.rt.engine) as s:
        assert s.exec(select(Plan)).one().evaluation is None


# --- さぽネット会議: roles without a plan ---


def test_a_saponet_outcome_assigns_roles_without_a_plan(bot, clock):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.saponet, START)
    meeting_id = schedule(bot, "さぽネット", cases=[case_id], members=[COORD, "U0WIN1"])
    clock.at = jst("2026-12-07 11:00")
    form = outcome_form(bot, meeting_id, case_id)
    assert "goals" not in {b.get("block_id") for b in form["blocks"]}
    with Session(engine) as s:
        houkatsu = agency(s, "houkatsu").id
    answer = submit(
        bot,
        COORD,
        form,
        {
            "direction": "まず見守りで関係をつくる",
            "next_step": "to_marugoto",
            "task_agency_0": str(houkatsu),
            "task_what_0": "訪問して関係づくり",
            "task_due_0": "2026-12-18",
        },
    )
    assert "同意" in answer["errors"]["next_step"]  # no consent: not to まるごと
    answer = submit(
        bot,
        COORD,
        form,
        {
            "direction": "まず見守りで関係をつくる",
            "next_step": "outreach_for_consent",
            "review_on": "2027-01-15",
            "task_agency_0": str(houkatsu),
            "task_what_0": "訪問して関係づくり",
            "task_due_0": "2026-12-18",
        },
    )
    assert answer["response_action"] == "update", answer
    with Session(engine) as s:
        assert s.exec(select(Plan)).all() == []
        [task] = s.exec(select(PlanTask)).all()
        assert task.plan_id is None and task.outcome_id is not None
    [check] = reminders(engine, rule="outcome_review")
    assert local(check.deliver_at) == "2027-01-15 08:30"
    with Session(engine) as s:
        notices = [n.kind for n in s.exec(select(Notice))]
    assert "task_assigned" in notices


# --- the task's message once the task is closed ---


def task_message(bot, channel: str, task_id: int) -> dict:
    """The message that told `channel` of the task (found by its notice key)."""
    [message] = [m for m in bot.slack.messages(channel) if key_of(m).startswith(f"task:{task_id}:")]
    return message


def updates_of(bot, message: dict) -> list:
    return [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == message["ts"]]


def test_a_task_done_in_its_channel_message_is_updated_without_buttons(bot, planned):
    _, second = tasks(bot.rt.engine)  # 高齢者相談支援センター's task: its channel is told
    posted = task_message(bot, "C0HOUKATSU", second.id)
    assert has_button(posted["blocks"], "task_done", str(second.id))
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", posted, "task_done", str(second.id))
    assert "完了にしました" in ephemeral_after(bot, "U0WIN1", seen)
    bot.deliver()
    [update] = updates_of(bot, posted)
    assert update.ok and update.args["channel"] == "C0HOUKATSU"
    [now] = [m for m in bot.slack.messages("C0HOUKATSU") if m["ts"] == posted["ts"]]
    assert "「完了」になりました" in now["text"]
    assert "「完了」になりました" in text_of(now["blocks"]) and "R8-0001" in text_of(now["blocks"])
    assert not any(b["type"] == "actions" for b in now["blocks"])
    assert all(p not in text_of(now) for p in [TASK_TEXT, *PERSONAL])  # pointers only
    # A click from a stale copy of the message is refused and updates nothing again.
    seen = len(bot.slack.ephemerals("U0WIN1"))
    click_message(bot, "U0WIN1", posted, "task_done", str(second.id))
    assert "すでに完了" in ephemeral_after(bot, "U0WIN1", seen)
    bot.deliver()
    assert len(updates_of(bot, posted)) == 1


def test_a_task_done_before_its_message_went_out_is_never_posted_with_buttons(bot, world, clock):
    meeting_id = schedule(bot, "まるごと", cases=[world["case"]])
    clock.at = jst("2026-12-07 11:00")
    form = outcome_form(bot, meeting_id, world["case"])
    assert submit(bot, COORD, form, outcome_values(world))["response_action"] == "update"
    _, second = tasks(bot.rt.engine)
    with transaction(bot.rt.engine) as s:  # done before the delivery loop ran
        complete_task(s, s.get(PlanTask, second.id), at=clock(), by_id=None)
    bot.deliver()
    posted = [m for m in bot.slack.messages("C0HOUKATSU") if "役割分担" in m["text"]]
    updated = [c for c in bot.slack.calls_to("chat.update") if "役割分担" in c.args["text"]]
    assert posted == [] and updated == []
    with Session(bot.rt.engine) as s:
        # the second task's own notices (the first one's message was posted to its agency: which
        # of the two a kind-keyed dict kept depended on the database's row order)
        of_second = [n for n in s.exec(select(Notice)) if n.key.startswith(f"task:{second.id}:")]
        states = {n.kind: n.state for n in of_second if n.kind.startswith("task_")}
    assert states == {"task_assigned": "cancelled", "task_message_refresh": "cancelled"}


def test_tasks_ended_by_closing_the_case_lose_their_buttons_too(bot, planned, clock):
    _, second = tasks(bot.rt.engine)
    posted = task_message(bot, "C0HOUKATSU", second.id)
    [direct] = [m for m in dms(bot, "U0SUPPORT1") if "役割分担が届きました" in m["text"]]
    form = evaluation_form(bot, clock)
    answer = submit(
        bot, COORD, form, {"result": "achieved", "decision": "close", "close_reason": "resolved"}
    )
    assert answer["response_action"] == "update"
    bot.deliver()
    for message in (posted, direct):
        [update] = updates_of(bot, message)
        assert update.ok
        assert "終了（プランの見直し、またはケースの終結・中断）" in update.args["text"]
        assert not any(b["type"] == "actions" for b in update.args["blocks"])


def test_closing_the_case_from_its_card_ends_its_tasks_and_its_review(bot, planned, clock):
    from models.plans.evaluation import reviews_due
    from tests.desk.test_case_desk import open_form

    _, second = tasks(bot.rt.engine)
    posted = task_message(bot, "C0HOUKATSU", second.id)
    with Session(bot.rt.engine) as s:
        plan = s.exec(select(Plan)).one()
        number = s.get(Case, planned["case"]).number
    view = open_form(bot, COORD, "C0COORD", number, "close", planned["case"])
    answer = submit(bot, COORD, view, {"close_reason": "resolved"})
    assert answer["response_action"] == "update", answer
    bot.deliver()
    assert {t.state for t in tasks(bot.rt.engine)} == {"cancelled"}
    [update] = updates_of(bot, posted)
    assert not any(b["type"] == "actions" for b in update.args["blocks"])
    with Session(bot.rt.engine) as s:
        assert reviews_due(s, on_or_before=plan.review_on) == []
    clock.at = jst("2027-02-01 08:30")  # the task and review dates pass: nothing is sent
    bot.rt.scheduler.tick()
    bot.deliver()
    assert not [m for m in bot.slack.messages("C0COORD") if m["text"].startswith("【評価日】")]


def test_a_missing_task_or_plan_is_answered_like_another_agencys(bot, planned):
    """No enumeration of tasks and plans: a forged id that does not exist gets the same words
    as another agency's task (or the coordinator's evaluation), one refusal row each."""
    first, _ = tasks(bot.rt.engine)
    with Session(bot.rt.engine) as s:
        plan = s.exec(select(Plan)).one()
    for action in ("task_open", "task_done", "task_progress"):
        ask = functools.partial(forge, bot, "U0KODOMO1", action)
        said = same_answer(bot, "U0KODOMO1", ask, str(first.id), "999999")
        assert "あなたの機関の役割ではありません" in said
    ask = functools.partial(forge, bot, "U0KODOMO1", "plan_evaluate")
    assert "重層推進室" in same_answer(bot, "U0KODOMO1", ask, str(plan.id), "999999")
