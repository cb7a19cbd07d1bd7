"""The synthetic data generator: cases that walk the real lifecycle, the work after intake, the
same data for the same seed — and never anything that looks like a real person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlmodel import select

from models.base.db import transaction
from models.base.numbering import ReceiptCounter
from models.cases.lifecycle import CaseState, CloseReason, can_move
from models.cases.tables import Case, CaseEvent, Referral
from models.meetings.tables import Meeting
from models.outreach.tables import Contact, OutreachEvent, OutreachTarget
from models.plans.tables import Plan, PlanTask
from sandbox.synthetic import SYNTHETIC_TEXT, generate_cases

START = datetime(2025, 4, 1, tzinfo=UTC)
DAYS = 400
END = START + timedelta(days=DAYS)


@pytest.fixture
def world(org):
    generate_cases(org, count=400, start=START, days=DAYS, seed=11, activity=True)
    return org


def test_every_case_walks_the_lifecycle_within_the_period(world):
    with transaction(world, write=False) as session:
        cases = {c.id: c for c in session.exec(select(Case))}
        events: dict[int, list[CaseEvent]] = {}
        for e in session.exec(select(CaseEvent).order_by(CaseEvent.at, CaseEvent.id)):
            events.setdefault(e.case_id, []).append(e)
    assert len(cases) == 400
    assert {c.state for c in cases.values()} == {s.value for s in CaseState}
    for case in cases.values():
        walk = events[case.id]
        assert walk[0].kind == "received" and walk[0].at == case.created_at
        assert walk[0].from_state is None and walk[0].to_state == CaseState.received
        for before, after in pairwise(walk):
            assert before.to_state == after.from_state
            assert can_move(CaseState(after.from_state), CaseState(after.to_state))
            assert before.at < after.at < END
        assert walk[-1].to_state == case.state
        if len(walk) > 1:
            assert case.acknowledged_at == walk[1].at and walk[1].kind == "acknowledged"
            assert case.state_since == walk[-1].at
        else:
            assert case.acknowledged_at is None
        if case.state == CaseState.closed:
            assert walk[-1].code in {r.value for r in CloseReason}
        if case.state == CaseState.suspended:
            assert case.suspended_from == walk[-1].from_state
        if {e.to_state for e in walk} & {CaseState.saponet, CaseState.marugoto}:
            assert case.lead_agency_id is not None


def test_the_work_after_intake_follows_the_cases(world):
    with transaction(world, write=False) as session:
        reached = {}
        for e in session.exec(select(CaseEvent)):
            reached.setdefault(e.case_id, {})[e.to_state] = e.at
        plans = list(session.exec(select(Plan)))
        tasks = list(session.exec(select(PlanTask)))
        targets = list(session.exec(select(OutreachTarget)))
        target_events = list(session.exec(select(OutreachEvent)))
        contacts = list(session.exec(select(Contact)))
        meetings = list(session.exec(select(Meeting)))
        plan_ids = {p.id for p in plans}
        assert plans and tasks and targets and target_events and contacts and meetings
        for plan in plans:
            assert plan.created_at == reached[plan.case_id][CaseState.support]
            assert (plan.evaluated_at is not None) == (
                CaseState.evaluation in reached[plan.case_id]
            )
            assert plan.goals == [SYNTHETIC_TEXT]
        for task in tasks:
            assert task.plan_id in plan_ids and task.what == SYNTHETIC_TEXT
            assert (task.state == "done") == (task.done_at is not None)
        assert any(t.resource_id for t in tasks)
        for target in targets:
            assert target.label == f"OT-{target.id:04d}" and target.person == {}
            assert target.created_at == reached[target.case_id][CaseState.saponet]
        assert {e.target_id for e in target_events} == {t.id for t in targets}
        assert all(START <= c.at < END for c in contacts)
        assert all(START <= m.starts_at < END for m in meetings)


def test_nobody_in_it_looks_like_a_real_person(world):
    with transaction(world, write=False) as session:
        for referral in session.exec(select(Referral)):
            assert referral.person_name.startswith("合成 ")
            assert referral.contact == "0266-00-0000"
            assert "合成データ" in referral.narrative and "試験用" in referral.household
            assert referral.district is None


def snapshot(engine) -> list[tuple]:
    with transaction(engine, write=False) as session:
        cases = session.exec(select(Case).order_by(Case.id))
        return [(c.number, c.state, c.urgency, c.created_at, c.acknowledged_at) for c in cases]


def test_the_same_seed_gives_the_same_data_and_more_continues_it(org, tmp_path):
    generate_cases(org, count=30, start=START, days=60, seed=4)
    first = snapshot(org)
    assert first == snapshot_of_another(tmp_path)
    generate_cases(org, count=10, start=END, days=30, seed=5)
    with transaction(org, write=False) as session:
        numbers = [c.number for c in session.exec(select(Case).order_by(Case.id))]
        counters = {r.fiscal_year: r.last for r in session.exec(select(ReceiptCounter))}
    assert len(numbers) == len(set(numbers)) == 40 and numbers[:30] == [n for n, *_ in first]
    assert sum(counters.values()) == 40


def snapshot_of_another(tmp_path) -> list[tuple]:
    """The same call on a second, fresh database."""
    from models.base.db import make_engine
    from models.ops import migrate
    from models.org.orgfile import load_file
    from tests.conftest import ORG_FILE

    path = tmp_path / "second.db"
    migrate.upgrade(f"sqlite:///{path}")
    other = make_engine(f"sqlite:///{path}")
    try:
        with transaction(other) as session:
            load_file(session, ORG_FILE)
        generate_cases(other, count=30, start=START, days=60, seed=4)
        return snapshot(other)
    finally:
        other.dispose()
