"""The scale part of `tsunagi bench`, at a test's size: every step runs, and the Link-net steps
leave the database as they found it (each builds its figures from the data alone)."""

from __future__ import annotations

from sqlmodel import select

from models.base.db import transaction
from models.linknet.acks import CaseAckDeadline
from models.linknet.ledger import LinknetAtom, LinknetPublication
from models.queues.tables import Notice, Reminder
from sandbox.bench import scale
from sandbox.bench.run import Sizes


def rows(engine, table) -> int:
    with transaction(engine, write=False) as session:
        return len(session.exec(select(table)).all())


def test_every_scale_step_runs_and_the_figures_leave_nothing_behind(org):
    scale.populate(org, cases=300)
    deadlines = rows(org, CaseAckDeadline)
    assert 0 < deadlines < 300  # those before this month's post, as the monthly posts left them
    seconds = {
        name: step(org) for name, _, step in scale.steps(Sizes(scale_cases=300, scale_reminders=40))
    }
    assert len(seconds) == 5 and all(s > 0 for s in seconds.values())
    for table in (LinknetPublication, LinknetAtom, Notice):
        assert rows(org, table) == 0, table
    assert rows(org, CaseAckDeadline) == deadlines
    assert rows(org, Reminder) == 40
