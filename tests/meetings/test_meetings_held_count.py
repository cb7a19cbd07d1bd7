"""Link-net's "meetings held" (models/linknet/activity.py): a meeting counts when its outcomes or
minutes were recorded, or when its date passed without a cancellation; never when cancelled."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

import models.linknet.activity  # noqa: F401  (registers the source)
from models.linknet.periods import Month
from models.linknet.sources import SOURCES
from models.meetings.schedule import cancel, mark_held, schedule
from models.meetings.tables import MeetingKind
from models.org.tables import Member
from tests.conftest import START


def test_meetings_held_counts_recorded_and_passed_meetings_not_cancelled_ones(org):
    with Session(org) as s:
        coord = s.exec(select(Member).where(Member.slack_id == "U0COORD")).one()
        earlier = START - timedelta(days=40)  # scheduled in October, for October 20–23

        def meeting(day: int):
            return schedule(
                s,
                kind=MeetingKind.linknet,
                starts_at=START.replace(month=10, day=day),
                place=None,
                member_ids=[coord.id],
                agency_ids=[],
                case_ids=[],
                created_by=coord,
                at=earlier,
                has_consent=lambda *_: False,
            )

        recorded, passed, called_off = meeting(20), meeting(21), meeting(22)
        mark_held(s, recorded, at=START.replace(month=10, day=20))
        cancel(s, called_off)
        s.flush()
        october = Month(2026, 10).index
        counts = SOURCES["meetings"].count(s, october, october)
        # the recorded meeting and the one whose date passed (minutes not written yet)
        assert counts.get(("linknet", october), 0) == 2
        assert passed.state == "scheduled"
