"""Link-net sources from the work after intake: meetings, support plans, reviews, outreach and
participation resources. Each counts rows of its own table by month, in SQL; a source appears
in the figures only because its table exists and is filled by the feature that owns it.

- meetings: meetings held, by type, in the month of their start — shown exactly (meetings are
  not people; the national form asks for the number). A meeting counts as held when
  its outcomes or minutes were recorded (state held), or when its date has passed and it was not
  cancelled (still scheduled): a meeting is held on its day, and the record often comes later —
  counting only recorded ones would undercount, and would change a month already posted.
  Figures are made for complete months only (periods.require_complete), so every meeting
  counted has begun; one cancelled, even afterwards, is not counted;
- plans: support plans made; reviews: plan evaluations, by result;
- outreach_contacts: outreach contacts by outcome ("consented" = consent obtained);
- resources: plan tasks that use a participation-support resource (by the plan's month);
- outreach_targets: outreach targets active / paused at a month's end (a stock), replayed from
  the targets' state history (models/outreach/outreach.OutreachEvent).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from models.linknet.sources import Counts, Source, count_by_month, register
from models.linknet.sql import in_month, month_table
from models.meetings.tables import Meeting, MeetingKind, MeetingState
from models.outreach.figures import targets_at_month_ends
from models.outreach.tables import OPEN_TARGET_STATES, Contact, ContactOutcome
from models.plans.tables import Evaluation, Plan, PlanTask

OPEN_TARGETS = tuple(s.value for s in OPEN_TARGET_STATES)
# Held: recorded, or its (past: complete months only) date went by without a cancellation.
HELD_OR_PASSED = Meeting.state.in_((MeetingState.held.value, MeetingState.scheduled.value))


def _by_month(session: Session, first: int, last: int, when, category, *where) -> Counts:
    """Rows of `when` in the months, by category (a column) or all in one (a plain string);
    each month one range of the index on `when` (sql.month_table)."""
    if not isinstance(category, str):
        return count_by_month(session, first, last, category, when, *where, table=when.class_)
    months = month_table(first, last)
    query = (
        select(months.c.m, func.count())
        .select_from(months)
        .join(when.class_, in_month(months, when))
        .where(*where)
        .group_by(months.c.m)
    )
    return {(category, int(m)): int(n) for m, n in session.exec(query)}


register(
    Source(
        "meetings",
        tuple(k.value for k in MeetingKind),
        lambda s, a, b: _by_month(s, a, b, Meeting.starts_at, Meeting.kind, HELD_OR_PASSED),
        unit="events",
        exact=True,  # meetings are not people: the national form asks for the exact number
    )
)
register(
    Source(
        "plans",
        ("made",),
        lambda s, a, b: _by_month(s, a, b, Plan.created_at, "made"),
        unit="events",
    )
)
register(
    Source(
        "reviews",
        tuple(e.value for e in Evaluation),
        lambda s, a, b: _by_month(
            s, a, b, Plan.evaluated_at, Plan.evaluation, Plan.evaluation.is_not(None)
        ),
        unit="events",
    )
)
register(
    Source(
        "outreach_contacts",
        tuple(o.value for o in ContactOutcome),
        lambda s, a, b: _by_month(s, a, b, Contact.at, Contact.outcome),
        unit="events",
    )
)
# Outreach targets active / paused at each month's end, replayed from their state history.
register(Source("outreach_targets", OPEN_TARGETS, targets_at_month_ends, stock=True))


def _resources(session: Session, first: int, last: int) -> Counts:
    months = month_table(first, last)
    query = (
        select(months.c.m, func.count(PlanTask.id))
        .select_from(months)
        .join(Plan, in_month(months, Plan.created_at))
        .join(PlanTask, PlanTask.plan_id == Plan.id)
        .where(PlanTask.resource_id.is_not(None))
        .group_by(months.c.m)
    )
    return {("used", int(m)): int(n) for m, n in session.exec(query)}


register(Source("resources", ("used",), _resources, unit="events"))
