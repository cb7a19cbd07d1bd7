"""The legal rules of the three meetings, and the support plan, in the domain."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.meetings.rules import attendees
from models.meetings.schedule import agenda_cases, cancel, reschedule, schedule
from models.meetings.tables import MeetingKind
from models.org.tables import Agency, Member
from models.plans.evaluation import evaluate
from models.plans.outcomes import record_outcome
from models.plans.tables import Evaluation, NextStep, PlanTask
from models.plans.tasks import add_progress, complete_task, current_plan, make_plan
from reminders.calendar import BusinessCalendar
from sandbox.synthetic import generate_cases
from tests.conftest import START


def member(s: Session, slack_id: str) -> Member:
    return s.exec(select(Member).where(Member.slack_id == slack_id)).one()


def agency(s: Session, key: str) -> Agency:
    return s.exec(select(Agency).where(Agency.key == key)).one()


@pytest.fixture
def world(org):
    """Three synthetic cases, escalated to the coordinator and in assessment."""
    generate_cases(org, count=3, start=START - timedelta(days=10), days=5)
    with Session(org) as s:
        from models.cases.tables import Case

        for case in s.exec(select(Case)):
            case.state = "assessment"
            s.add(case)
        s.commit()
    return org


def consent_of(ids):
    return lambda session, case_id: case_id in ids


def sched(s, kind, users, cases=(), agencies=(), consent=(), starts=timedelta(days=3)):
    return schedule(
        s,
        kind=kind,
        starts_at=START + starts,
        place="役場 第1会議室",
        member_ids=[member(s, u).id for u in users],
        agency_ids=[agency(s, a).id for a in agencies],
        case_ids=list(cases),
        created_by=member(s, "U0COORD"),
        at=START,
        has_consent=consent_of(set(consent)),
    )


def test_saponet_admits_only_members_bound_by_confidentiality(world):
    with Session(world) as s:
        meeting = sched(s, MeetingKind.saponet, ["U0COORD", "U0WIN1"], cases=[1])
        assert {m.slack_id for m in attendees(s, meeting.id)} == {"U0COORD", "U0WIN1"}
        with pytest.raises(DomainError) as refused:
            sched(s, MeetingKind.saponet, ["U0COORD", "U0SHOGAI1"], cases=[1])
        assert refused.value.code == "meeting.saponet_unbound"
        assert "<@U0SHOGAI1>" in refused.value.params["users"]


def test_saponet_refuses_a_whole_agency_with_an_unbound_member(world):
    with Session(world) as s, pytest.raises(DomainError) as refused:
        sched(s, MeetingKind.saponet, ["U0COORD"], agencies=["shogai"], cases=[1])
    assert refused.value.code == "meeting.saponet_unbound"


def test_marugoto_needs_current_consent_for_every_case(world):
    with Session(world) as s:
        with pytest.raises(DomainError) as refused:
            sched(s, MeetingKind.marugoto, ["U0COORD"], cases=[1, 2], consent=[1])
        assert refused.value.code == "meeting.marugoto_needs_consent"
        meeting = sched(s, MeetingKind.marugoto, ["U0COORD"], cases=[1, 2], consent=[1, 2])
        assert [c.id for c in agenda_cases(s, meeting.id)] == [1, 2]


def test_linknet_takes_no_case(world):
    with Session(world) as s:
        with pytest.raises(DomainError) as refused:
            sched(s, MeetingKind.linknet, ["U0DEPT1"], cases=[1])
        assert refused.value.code == "meeting.linknet_no_cases"
        meeting = sched(s, MeetingKind.linknet, ["U0DEPT1", "U0COORD"])
        assert agenda_cases(s, meeting.id) == []


def test_a_meeting_in_the_past_or_without_anyone_is_refused(world):
    with Session(world) as s:
        with pytest.raises(DomainError) as past:
            sched(s, MeetingKind.linknet, ["U0COORD"], starts=timedelta(hours=-1))
        assert past.value.code == "meeting.in_the_past"
        with pytest.raises(DomainError) as empty:
            sched(s, MeetingKind.linknet, [])
        assert empty.value.code == "meeting.no_attendees"


def test_reschedule_and_cancel(world):
    with Session(world) as s:
        meeting = sched(s, MeetingKind.linknet, ["U0COORD"])
        reschedule(s, meeting, starts_at=START + timedelta(days=5), at=START)
        assert meeting.version == 2
        cancel(s, meeting)
        with pytest.raises(DomainError):
            reschedule(s, meeting, starts_at=START + timedelta(days=6), at=START)


def test_plan_versions_tasks_and_evaluation(world):
    with Session(world) as s:
        coord = member(s, "U0COORD")
        meeting = sched(s, MeetingKind.marugoto, ["U0COORD"], cases=[1], consent=[1])
        record_outcome(
            s,
            meeting_id=meeting.id,
            case_id=1,
            direction="試験の支援方針",
            lead_agency_id=agency(s, "houkatsu").id,
            next_step=NextStep.start_support,
            review_on=date(2027, 2, 1),
            recorded_by_id=coord.id,
            at=START,
        )
        first = make_plan(
            s,
            case_id=1,
            goals=["試験の目標"],
            review_on=date(2027, 2, 1),
            tasks=[
                {
                    "agency_id": agency(s, "houkatsu").id,
                    "what": "訪問",
                    "due_on": date(2026, 12, 10),
                }
            ],
            created_by_id=coord.id,
            at=START,
            meeting_id=meeting.id,
        )
        [task] = s.exec(select(PlanTask).where(PlanTask.plan_id == first.id)).all()
        add_progress(s, task, note="1回目の訪問", by_id=coord.id, at=START)
        second = make_plan(
            s,
            case_id=1,
            goals=["見直した目標"],
            review_on=date(2027, 3, 1),
            tasks=[],
            created_by_id=coord.id,
            at=START,
        )
        assert (second.version, current_plan(s, 1).id) == (2, second.id)
        assert task.state == "cancelled" and first.current is False
        with pytest.raises(DomainError):
            complete_task(s, task, at=START)
        evaluate(s, second, result=Evaluation.partly, note="一部達成", at=START)
        with pytest.raises(DomainError):
            evaluate(s, second, result=Evaluation.achieved, note=None, at=START)


def test_plan_needs_goals_and_a_future_review(world):
    with Session(world) as s:
        coord = member(s, "U0COORD")
        for goals, review in ((["  "], date(2027, 1, 1)), (["目標"], date(2026, 11, 1))):
            with pytest.raises(DomainError):
                make_plan(
                    s,
                    case_id=1,
                    goals=goals,
                    review_on=review,
                    tasks=[],
                    created_by_id=coord.id,
                    at=START,
                )


# --- reminder times on the business calendar -----------------------------------------------------


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def times_of(starts: str, remind_before: int = 60) -> dict[str, str]:
    from models.meetings.tables import Meeting
    from reminders.meetings import reminder_times

    meeting = Meeting(
        kind="saponet",
        starts_at=jst(starts),
        remind_before=remind_before,
        created_by_id=1,
        created_at=jst(starts),
    )
    cal = BusinessCalendar()
    return {
        rule: cal.deliver_at(due).strftime("%Y-%m-%d %H:%M") if due else None
        for rule, due in reminder_times(cal, meeting).items()
    }


@pytest.mark.parametrize(
    ("starts", "eve", "soon"),
    [
        ("2026-12-07 10:00", "2026-12-04 08:30", "2026-12-07 09:00"),  # Monday: Friday before
        ("2027-01-12 10:00", "2027-01-08 08:30", "2027-01-12 09:00"),  # after 成人の日 (Mon 1/11)
        ("2027-01-04 10:00", "2026-12-28 08:30", "2027-01-04 09:00"),  # after 年末年始
        ("2026-12-08 08:45", "2026-12-07 08:30", "2026-12-08 08:30"),  # 7:45 → the opening
    ],
)
def test_meeting_reminders_fall_on_business_times(starts, eve, soon):
    assert times_of(starts) == {"meeting_eve": eve, "meeting_soon": soon}


def test_no_reminder_before_the_start_when_not_wanted():
    assert times_of("2026-12-07 10:00", remind_before=0)["meeting_soon"] is None


def test_task_reminders_fall_the_business_day_before_and_after_the_due_date():
    from models.plans.tables import PlanTask
    from reminders.plans import task_times

    cal = BusinessCalendar()
    task = PlanTask(case_id=1, agency_id=1, what="x", due_on=date(2027, 1, 8))
    found = {k: v.strftime("%Y-%m-%d %H:%M") for k, v in task_times(cal, task).items()}
    assert found == {"task_due": "2027-01-07 08:30", "task_overdue": "2027-01-12 08:30"}


def test_series_occurrences_follow_the_calendar(world):
    from models.meetings.tables import MeetingSeries
    from reminders.meetings import next_occurrences

    cal = BusinessCalendar()
    with Session(world) as s:
        fourth_tuesday = MeetingSeries(weekday=1, nth=4, hour=13, minute=30)
        last_friday = MeetingSeries(weekday=4, nth=-1, hour=10, minute=0)
        s.add_all([fourth_tuesday, last_friday])
        s.flush()
        found = next_occurrences(s, fourth_tuesday, now=jst("2027-01-04 07:00"), cal=cal)
        assert [at.strftime("%m-%d %H:%M") for _, at in found] == ["01-26 13:30", "02-24 13:30"]
        # the last Friday of December 2026 (12/25) is open; 2027-04-30 too
        found = next_occurrences(s, last_friday, now=jst("2026-12-01 07:00"), cal=cal)
        assert [at.strftime("%m-%d") for _, at in found] == ["12-25", "01-29"]


# --- rights of attendees (models/cases/access.py) -------------------------------------------------


def test_attendees_see_the_meeting_and_only_entitled_ones_its_cases(world):
    from models.cases.access import Action, decide
    from models.cases.consent import ConsentInput, record
    from models.cases.tables import Case

    with Session(world) as s:
        coord = member(s, "U0COORD")
        s.get(Case, 1).state = "marugoto"
        record(
            s,
            case=s.get(Case, 1),
            member=coord,
            data=ConsentInput(
                status="given",
                method="written",
                obtained_on=date(2026, 11, 26),
                agency_ids=[agency(s, "houkatsu").id, agency(s, "minsei").id],
            ),
            at=START,
        )
        maru = sched(
            s, MeetingKind.marugoto, ["U0COORD", "U0WIN1", "U0SUPPORT1"], cases=[1], consent=[1]
        )
        # the person narrows the consent after the meeting was scheduled: 民生児童委員 is out
        record(
            s,
            case=s.get(Case, 1),
            member=coord,
            data=ConsentInput(
                status="given",
                method="written",
                obtained_on=date(2026, 11, 27),
                agency_ids=[agency(s, "houkatsu").id],
            ),
            at=START,
        )
        sapo = sched(s, MeetingKind.saponet, ["U0COORD", "U0WIN1"], cases=[2])
        case1, case2 = s.get(Case, 1), s.get(Case, 2)
        win, sup, kodomo = member(s, "U0WIN1"), member(s, "U0SUPPORT1"), member(s, "U0KODOMO1")
        assert decide(s, win, Action.view_meeting, meeting=maru)
        assert decide(s, win, Action.view_meeting_case, case1, meeting=maru)  # consent covers
        refused = decide(s, sup, Action.view_meeting_case, case1, meeting=maru)
        assert refused.reason == "access.consent_not_covering"
        assert decide(s, kodomo, Action.view_meeting, meeting=maru).reason == "meeting.not_attendee"
        assert decide(s, win, Action.view_meeting_case, case2, meeting=maru).reason == (
            "meeting.case_not_on_agenda"
        )
        assert decide(s, win, Action.view_meeting_case, case2, meeting=sapo)
        # the 守秘義務 acknowledgement lapses: the さぽネット会議 is closed to that member
        win.confidentiality_ack = None
        assert decide(s, win, Action.view_meeting, meeting=sapo).reason == "meeting.not_bound"
        # consent withdrawn: the たつのまるごと会議's details close
        record(
            s,
            case=case1,
            member=coord,
            data=ConsentInput(status="withdrawn", method="oral", obtained_on=date(2026, 11, 27)),
            at=START,
        )
        win.confidentiality_ack = date(2026, 7, 1)
        withdrawn = decide(s, win, Action.view_meeting_case, case1, meeting=maru)
        assert withdrawn.reason == "meeting.no_consent_now"
        assert decide(s, coord, Action.manage_meeting)
        assert decide(s, win, Action.manage_meeting).reason == "access.coordinator_only"


def test_link_net_texts_must_not_look_personal():
    from models.meetings.rules import clean_lines, looks_personal

    assert looks_personal("R8-0012 の件") and looks_personal("ｒ８－００１２")
    assert looks_personal("電話 0266-00-0000") and looks_personal("09012345678")
    assert not looks_personal("令和8年度の実施状況（10月分）")
    with pytest.raises(DomainError):
        clean_lines(["x"] * 11)
    assert clean_lines(["  議題 ", "", "集計"]) == ["議題", "集計"]


# --- outcomes in the domain ----------------------------------------------------------------------


def test_an_outcome_needs_a_started_case_meeting_with_the_case_on_its_agenda(world):
    from models.plans.outcomes import OutcomeInput, record_case_outcome

    with Session(world) as s:
        coord = member(s, "U0COORD")
        from models.cases.tables import Case

        sapo = sched(s, MeetingKind.saponet, ["U0COORD"], cases=[1])
        link = sched(s, MeetingKind.linknet, ["U0COORD"])
        data = OutcomeInput(direction="方針", next_step="keep_discussing")
        for meeting, case_id, at, code in (
            (sapo, 1, START, "meeting.not_yet_held"),
            (sapo, 2, START + timedelta(days=4), "outcome.not_on_agenda"),
            (link, 1, START + timedelta(days=4), "meeting.linknet_no_cases"),
        ):
            with pytest.raises(DomainError) as refused:
                record_case_outcome(
                    s, meeting=meeting, case=s.get(Case, case_id), member=coord, data=data, at=at
                )
            assert refused.value.code == code


def test_overdue_tasks_and_due_reviews_reach_the_desk(world):
    from models.desk.sections import overdue
    from models.plans.tasks import make_plan

    with Session(world) as s:
        coord = member(s, "U0COORD")
        make_plan(
            s,
            case_id=1,
            goals=["目標"],
            review_on=date(2026, 12, 10),
            tasks=[
                {"agency_id": agency(s, "houkatsu").id, "what": "訪問", "due_on": date(2026, 12, 1)}
            ],
            created_by_id=coord.id,
            at=START,
        )
        later = jst("2026-12-10 09:00")
        kinds = [i.kind for i in overdue(s, coord, now=later, deadline_of=lambda *_: later)]
        assert kinds.count("task") == 1 and kinds.count("review") == 1
        win = member(s, "U0WIN1")
        kinds = [i.kind for i in overdue(s, win, now=later, deadline_of=lambda *_: later)]
        assert "task" in kinds and "review" not in kinds
        assert "task" not in [
            i.kind for i in overdue(s, win, now=START, deadline_of=lambda *_: later)
        ]


def test_meetings_plans_and_resource_use_feed_the_linknet_figures(world):
    from models.linknet.periods import Month
    from models.linknet.sources import SOURCES
    from models.plans.tables import Resource
    from models.plans.tasks import make_plan

    with Session(world) as s:
        coord = member(s, "U0COORD")
        sched(s, MeetingKind.saponet, ["U0COORD"], cases=[1])
        sched(s, MeetingKind.linknet, ["U0COORD"])
        salon = Resource(key="salon", name="試験サロン", kind="salon")
        s.add(salon)
        s.flush()
        make_plan(
            s,
            case_id=1,
            goals=["目標"],
            review_on=date(2027, 2, 1),
            tasks=[
                {
                    "agency_id": agency(s, "houkatsu").id,
                    "what": "サロンへの同行",
                    "due_on": date(2026, 12, 20),
                    "resource_id": salon.id,
                }
            ],
            created_by_id=coord.id,
            at=START,
        )
        s.flush()
        nov = Month(2026, 11).index
        assert SOURCES["meetings"].count(s, nov, nov + 1) == {
            ("saponet", nov): 1,
            ("linknet", nov): 1,
        }
        assert SOURCES["plans"].count(s, nov, nov) == {("made", nov): 1}
        assert SOURCES["resources"].count(s, nov, nov) == {("used", nov): 1}


def test_a_memo_still_at_a_window_is_not_for_the_meetings(world):
    from models.cases.tables import Case

    with Session(world) as s:
        s.get(Case, 1).state = "window"
        with pytest.raises(DomainError) as refused:
            sched(s, MeetingKind.saponet, ["U0COORD"], cases=[1])
        assert refused.value.code == "meeting.case_at_window"


def test_a_case_added_to_a_marugoto_agenda_needs_consent_covering_every_attendee(world):
    from models.cases.consent import ConsentInput, record
    from models.cases.tables import Case, has_consent
    from models.meetings.schedule import add_case_to_agenda
    from models.meetings.tables import on_agenda

    with Session(world) as s:
        coord = member(s, "U0COORD")
        for case_id, keys in ((1, ("houkatsu", "minsei")), (2, ("houkatsu",))):
            s.get(Case, case_id).state = "marugoto"
            record(
                s,
                case=s.get(Case, case_id),
                member=coord,
                data=ConsentInput(
                    status="given",
                    method="written",
                    obtained_on=date(2026, 11, 26),
                    agency_ids=[agency(s, k).id for k in keys],
                ),
                at=START,
            )
        maru = sched(
            s, MeetingKind.marugoto, ["U0COORD", "U0WIN1", "U0SUPPORT1"], cases=[1], consent=[1]
        )
        case2 = s.get(Case, 2)
        with pytest.raises(DomainError) as refused:
            add_case_to_agenda(s, meeting=maru, case=case2, has_consent=has_consent, at=START)
        assert refused.value.code == "meeting.marugoto_not_covered"
        assert refused.value.params["agencies"] == f"民生児童委員（{case2.number}）"
        assert not on_agenda(s, maru.id, case2.id)
