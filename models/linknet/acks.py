"""Acknowledgement deadlines, stored per case so the figures can count "within the deadline" in SQL.

The deadline of a memo depends on the town's business calendar and the reminder settings, which
live in the reminders layer; models must not import it. So the deadline is computed there and
recorded here: every Link-net entry point (post, preview, report — all above models) first calls
`record_ack_deadlines(session, deadline=…)` with a function from reminders.deadlines. Only memos
without a recorded deadline are computed, so after the first run this touches the new memos of a
month. A recorded deadline does not change afterwards (the figures of a month stay as published).
The desk (models/desk/desk.py) reads it too, so its list of overdue memos is a comparison in SQL and
only the memos received since the last post are computed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Index, insert
from sqlmodel import Field, Session, SQLModel, select

from models.base.db import UTCDateTime
from models.cases.tables import Case, CaseEvent
from models.plans.tables import Plan

Deadline = Callable[[datetime, str], datetime]  # (received_at, urgency) -> deadline


class CaseAckDeadline(SQLModel, table=True):
    case_id: int = Field(primary_key=True, foreign_key="case.id")
    due_at: datetime = Field(sa_type=UTCDateTime)


# Indexes the figures need on tables of the case desk (declared here to keep that file as is;
# migration 0002): each count by category and month reads one range of an index on (category,
# time) — memos by urgency, age band and referring agency; acknowledgements (and the time they
# took); changes into and out of each state, closures by reason; plans by the month of their
# evaluation (reviews). The first memo and the first state change come from the indexes on
# created_at and at (models/cases/records.py, migration 0001).
_case, _event = Case.__table__.c, CaseEvent.__table__.c
Index("ix_case_urgency_created_at", _case.urgency, _case.created_at)
Index("ix_case_age_band_created_at", _case.age_band, _case.created_at)
Index("ix_case_referrer_created_at", _case.referrer_agency_id, _case.created_at)
Index("ix_case_acknowledged_at", _case.acknowledged_at, _case.created_at)
Index("ix_caseevent_at", _event.at)
Index("ix_caseevent_to_state_at", _event.to_state, _event.at, _event.code)
Index("ix_caseevent_from_state_at", _event.from_state, _event.at)
Index("ix_plan_evaluated_at", Plan.__table__.c.evaluated_at)


def record_ack_deadlines(session: Session, *, deadline: Deadline, until: datetime) -> int:
    """Record the deadline of every memo received before `until` that has none yet."""
    rows = session.exec(
        select(Case.id, Case.created_at, Case.urgency)
        .outerjoin(CaseAckDeadline, CaseAckDeadline.case_id == Case.id)
        .where(CaseAckDeadline.case_id.is_(None), Case.created_at < until)
    ).all()
    if rows:
        session.execute(
            insert(CaseAckDeadline),
            [{"case_id": c, "due_at": deadline(at, urgency)} for c, at, urgency in rows],
        )
    return len(rows)
