"""How the figures count, at scale: by month through a table of month bounds, by category
through one index range per value, and only the months not frozen yet — always the same numbers
as a recount in Python."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlmodel import select

from models.base.db import transaction
from models.cases.tables import Case, CaseEvent
from models.linknet import acks, figures, ledger
from models.linknet.periods import Month
from models.linknet.posting import post
from models.linknet.sources import SOURCES
from models.meetings.tables import Meeting
from models.outreach.tables import Contact, OutreachEvent
from models.plans.tables import Plan, PlanTask
from sandbox.synthetic import generate_cases
from tests.conftest import START
from tests.linknet.test_linknet_figures import one_day, recount

OCTOBER = Month(2026, 10)
MONTHS = list(range(Month(2025, 3).index, OCTOBER.index + 1))


@pytest.fixture
def town(org):
    """Two years of synthetic memos, with plans, meetings and outreach."""
    start = datetime(2024, 12, 1, tzinfo=UTC)
    generate_cases(org, count=400, start=start, days=700, seed=9, activity=True)
    with transaction(org) as session:
        acks.record_ack_deadlines(session, deadline=one_day, until=START)
    return org


def activity_recount(session, months: list[int]) -> dict:
    """The sources of the work after intake, recounted row by row."""
    out: dict = {}

    def add(key, n=1):
        if key[2] in months:
            out[key] = out.get(key, 0) + n

    for m in session.exec(select(Meeting)):
        if m.state != "cancelled":
            add(("meetings", m.kind, Month.of(m.starts_at).index))
    plans = {p.id: p for p in session.exec(select(Plan))}
    for p in plans.values():
        add(("plans", "made", Month.of(p.created_at).index))
        if p.evaluation:
            add(("reviews", p.evaluation, Month.of(p.evaluated_at).index))
    for t in session.exec(select(PlanTask)):
        if t.resource_id is not None and t.plan_id in plans:
            add(("resources", "used", Month.of(plans[t.plan_id].created_at).index))
    for c in session.exec(select(Contact)):
        add(("outreach_contacts", c.outcome, Month.of(c.at).index))
    changes = list(session.exec(select(OutreachEvent).order_by(OutreachEvent.at)))
    for m in months:
        end = Month.from_index(m).end
        state = {}
        for e in changes:
            if e.at < end:
                state[e.target_id] = e.to_state
        for s in state.values():
            if s in ("active", "paused"):
                add(("outreach_targets", s, m))
    return out


def test_every_source_equals_a_recount(town):
    with transaction(town, write=False) as session:
        got = {a: v for a, v in figures.counts(session, MONTHS).items() if v and a[2] in MONTHS}
        expected = recount(session, MONTHS) | activity_recount(session, MONTHS)
    assert got == expected
    assert {source for source, _, _ in got} == set(SOURCES)  # every source has something


def test_a_single_month_and_an_empty_span_count_like_the_rest(town):
    with transaction(town, write=False) as session:
        for source in SOURCES.values():
            whole = source.count(session, MONTHS[0], MONTHS[-1])
            for m in (MONTHS[0], OCTOBER.index):
                alone = source.count(session, m, m)
                assert alone == {k: v for k, v in whole.items() if k[1] == m}, source.key
        future = Month(2030, 1).index
        for source in SOURCES.values():
            counted = source.count(session, future, future)
            assert all(v == 0 or source.stock for v in counted.values()), source.key


def counted_months(monkeypatch) -> dict[str, list[tuple[int, int]]]:
    """Record the month spans each source is asked to count."""
    calls: dict[str, list[tuple[int, int]]] = {}
    for key, source in list(SOURCES.items()):

        def spy(session, first, last, key=key, count=source.count):
            calls.setdefault(key, []).append((first, last))
            return count(session, first, last)

        monkeypatch.setitem(SOURCES, key, dataclasses.replace(source, count=spy))
    return calls


def test_frozen_months_are_not_counted_again(town, monkeypatch):
    with transaction(town) as session:
        post(session, month=OCTOBER.plus(-1), now=START, deadline=one_day)
        frozen_until = max(m for _, _, m in ledger.frozen_atoms(session))
        assert frozen_until == OCTOBER.index - 1
    # A memo slipped into a frozen month (an import, a clock gone wrong) changes nothing there.
    with transaction(town) as session:
        template = session.exec(select(Case).order_by(Case.id.desc())).first()
        values = template.model_dump(exclude={"id", "number", "seq"})
        values |= {
            "number": "R7-9999",
            "seq": 9999,
            "created_at": datetime(2025, 6, 10, tzinfo=UTC),
        }
        session.execute(insert(Case), [values])
        new_id = session.exec(select(Case.id).where(Case.number == "R7-9999")).one()
        received = {"case_id": new_id, "at": values["created_at"], "kind": "received"}
        session.execute(insert(CaseEvent), [received | {"to_state": "received"}])
    calls = counted_months(monkeypatch)
    months = list(range(MONTHS[0], OCTOBER.index + 1))
    with transaction(town, write=False) as session:
        got = figures.counts(session, months)
        frozen = ledger.frozen_atoms(session)
        fresh = {}
        for source in SOURCES.values():
            for (category, m), n in source.count(session, months[0] - 1, months[-1]).items():
                fresh[(source.key, category, m)] = n
    for key, spans in calls.items():
        first_call = spans[0]
        if SOURCES[key].stock:
            assert first_call == (months[0] - 1, months[-1]), key  # a stock replays it all
        else:
            assert first_call == (OCTOBER.index, OCTOBER.index), key  # only October is new
    for atom, value in got.items():
        assert value == frozen.get(atom, fresh.get(atom, 0)), atom
    june = Month(2025, 6).index
    assert (
        fresh[("new_urgency", template.urgency, june)]
        == got[("new_urgency", template.urgency, june)] + 1
    )


def test_a_report_after_the_posts_counts_nothing_from_the_data(town, monkeypatch):
    with transaction(town) as session:
        for month in (OCTOBER.plus(-1), OCTOBER):
            post(session, month=month, now=START, deadline=one_day)
    calls = counted_months(monkeypatch)
    with transaction(town, write=False) as session:
        layout = figures.report_layout(2026, now=START)  # April to October, and the year before
        draft = figures.make_draft(session, layout, k=10, now=START)
    assert calls == {}  # every month of the report, and since the start, was frozen by the posts
    assert draft.cells
