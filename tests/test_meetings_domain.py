"""The legal rules of the three meetings, and the support plan, in the domain."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from models.errors import DomainError
from models.meetings import MeetingKind, agenda_cases, attendees, cancel, reschedule, schedule
from models.org import Agency, Member
from models.plans import (
    Evaluation,
    NextStep,
    PlanTask,
    add_progress,
    complete_task,
    current_plan,
    evaluate,
    make_plan,
    record_outcome,
)
from models.synthetic import generate_cases
from tests.conftest import START


def member(s: Session, slack_id: str) -> Member:
    return s.exec(select(Member).where(Member.slack_id == slack_id)).one()


def agency(s: Session, key: str) -> Agency:
    return s.exec(select(Agency).where(Agency.key == key)).one()


@pytest.fixture
def world(org):
    generate_cases(org, count=3, start=START - timedelta(days=10), days=5)
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
