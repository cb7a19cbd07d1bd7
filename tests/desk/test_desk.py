"""The desk's lists over many cases: paged in SQL, yet the same as the plain lists; deadlines
read from the record where the figures stored them, computed where they did not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from models.base.db import transaction
from models.cases.tables import Case
from models.desk import sections as desk
from models.desk.lines import URGENCY_RANK
from models.linknet import acks
from models.org.tables import Member
from sandbox.synthetic import generate_cases
from tests.conftest import START

MEMBERS = ("U0COORD", "U0WIN1", "U0KODOMO1", "U0SUPPORT1", "U0PARTNER1")


def one_day(received_at, urgency):
    return received_at + timedelta(days=1)


def two_hours(received_at, urgency):
    return received_at + timedelta(hours=2)


def member(session, slack_id: str) -> Member:
    return session.exec(select(Member).where(Member.slack_id == slack_id)).one()


@pytest.fixture
def many(org):
    """150 synthetic cases over the last 200 days, in every state."""
    generate_cases(org, count=150, start=START - timedelta(days=200), days=200, seed=5)
    return org


def all_pages(fetch, size: int) -> list:
    first = fetch(0)
    items = list(first.items)
    for page in range(1, first.pages):
        got = fetch(page)
        assert (got.page, got.pages, got.total) == (page, first.pages, first.total)
        items += got.items
    assert len(items) == first.total
    return items


@pytest.mark.parametrize("size", [1, 3, 8, 200])
def test_open_cases_come_in_pages_in_the_order_of_the_whole_list(many, size):
    with transaction(many, write=False) as session:
        for slack_id in MEMBERS:
            who = member(session, slack_id)
            whole = desk.open_cases(session, who)
            paged = all_pages(
                lambda p, who=who: desk.open_cases_page(session, who, page=p, size=size), size
            )
            assert paged == whole, slack_id
        coordinator = member(session, "U0COORD")
        total = desk.open_cases_page(session, coordinator, page=0, size=size).total
        assert total > 50
        last = desk.open_cases_page(session, coordinator, page=10_000, size=size)
        assert last.page == last.pages - 1 and not last.has_next  # a page past the end: the last


def test_a_state_the_lifecycle_does_not_know_comes_last(many):
    with transaction(many) as session:
        oldest = session.exec(select(Case).where(Case.state == "window").order_by(Case.id)).first()
        session.execute(update(Case).where(Case.id == oldest.id).values(state="legacy"))
    with transaction(many, write=False) as session:
        coordinator = member(session, "U0COORD")
        lines = all_pages(
            lambda p: desk.open_cases_page(session, coordinator, page=p, size=7), size=7
        )
    assert lines[-1].case_id == oldest.id and lines[-1].state == "legacy"


def expected_waiting(session, who, now, deadline_of):
    query = select(Case).where(Case.state == "received")
    if "coordinator" not in who.roles:
        query = query.where(Case.routed_agency_id == who.agency_id)
    cases = sorted(
        session.exec(query), key=lambda c: (URGENCY_RANK.get(c.urgency, 9), c.created_at, c.id)
    )
    return [(c.id, deadline_of(c.created_at, c.urgency)) for c in cases]


def test_waiting_memos_are_paged_urgent_first_then_longest_waiting(many):
    now = START
    with transaction(many, write=False) as session:
        for slack_id in ("U0COORD", "U0WIN1", "U0KODOMO1"):
            who = member(session, slack_id)
            paged = all_pages(
                lambda p, who=who: desk.waiting_page(
                    session, who, now=now, deadline_of=one_day, page=p, size=4
                ),
                4,
            )
            assert [(w.line.case_id, w.due) for w in paged] == expected_waiting(
                session, who, now, one_day
            )
            assert all(w.overdue == (w.due <= now) for w in paged)
            assert all(w.waited == now - w.line.created_at for w in paged)
        partner = member(session, "U0PARTNER1")
        assert desk.waiting_page(session, partner, now=now, deadline_of=one_day, page=0).total == 0
        assert desk.overdue(session, partner, now=now, deadline_of=one_day) == []


def ack_items(session, who, now, deadline_of):
    return sorted(
        (i.case_id, i.number, i.due)
        for i in desk.overdue(session, who, now=now, deadline_of=deadline_of)
        if i.kind == "ack"
    )


def test_recorded_deadlines_are_read_and_the_others_computed(many):
    now = START
    with transaction(many, write=False) as session:
        coordinator = member(session, "U0COORD")
        computed = ack_items(session, coordinator, now, one_day)
        assert computed  # synthetic memos have waited for months
    # The figures record the deadline of every memo received before a post; later memos have none.
    half = START - timedelta(days=100)
    with transaction(many) as session:
        assert acks.record_ack_deadlines(session, deadline=one_day, until=half) > 0
    with transaction(many, write=False) as session:
        coordinator = member(session, "U0COORD")
        assert ack_items(session, coordinator, now, one_day) == computed
        # Recorded ones are read, not computed: a rule that now says "two hours" moves only
        # the deadlines of the memos received after the record was made.
        mixed = {i: due for i, _, due in ack_items(session, coordinator, now, two_hours)}
        created = dict(session.exec(select(Case.id, Case.created_at)).all())
        assert {created[i] < half for i in mixed} == {True, False}  # both kinds are there
        for case_id, due in mixed.items():
            rule = one_day if created[case_id] < half else two_hours
            assert due == rule(created[case_id], "normal")
        page = desk.waiting_page(
            session, coordinator, now=now, deadline_of=two_hours, page=0, size=200
        )
        for w in page.items:
            rule = one_day if w.line.created_at < half else two_hours
            assert w.due == rule(w.line.created_at, w.line.urgency)


def test_a_recorded_deadline_still_ahead_is_not_overdue(many):
    ahead = START + timedelta(days=3)
    with transaction(many) as session:
        acks.record_ack_deadlines(session, deadline=lambda at, urgency: ahead, until=START)
    with transaction(many, write=False) as session:
        coordinator = member(session, "U0COORD")
        assert ack_items(session, coordinator, START, one_day) == []
        page = desk.waiting_page(
            session, coordinator, now=START, deadline_of=one_day, page=0, size=3
        )
        assert page.total > 0 and all(w.due == ahead and not w.overdue for w in page.items)
    later = datetime(2027, 1, 1, tzinfo=UTC)
    with transaction(many, write=False) as session:
        assert len(ack_items(session, member(session, "U0COORD"), later, one_day)) == page.total
