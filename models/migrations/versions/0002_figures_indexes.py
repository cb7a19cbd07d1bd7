"""indexes the Link-net figures and the App Home read

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 14:00:00

The figures count memos and state changes by category and month over the whole history
(100,000 cases in `tsunagi bench`). Each count is one range of an index on (category, time), so
the database neither reads the table nor sorts every row (models/linknet/sources.py):
- memos received by urgency, age band and referring agency: case(<category>, created_at);
- acknowledgements and the median time they took: case(acknowledged_at, created_at), which
  replaces case(acknowledged_at);
- changes into and out of each state, closures by reason: caseevent(to_state, at, code) and
  caseevent(from_state, at);
- support plans evaluated (reviews) by month: plan(evaluated_at).
And the App Home's open tasks, soonest due first: plantask(state, due_on), read in order instead
of sorting every open task (models/plans.py open_task_lines).
Declared in models/linknet/acks.py and models/plans.py (PlanTask).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW = {
    "ix_case_urgency_created_at": ("case", ["urgency", "created_at"]),
    "ix_case_age_band_created_at": ("case", ["age_band", "created_at"]),
    "ix_case_referrer_created_at": ("case", ["referrer_agency_id", "created_at"]),
    "ix_caseevent_to_state_at": ("caseevent", ["to_state", "at", "code"]),
    "ix_caseevent_from_state_at": ("caseevent", ["from_state", "at"]),
    "ix_plan_evaluated_at": ("plan", ["evaluated_at"]),
    "ix_plantask_state_due_on": ("plantask", ["state", "due_on"]),
}


def upgrade() -> None:
    for name, (table, columns) in NEW.items():
        op.create_index(name, table, columns)
    op.drop_index("ix_case_acknowledged_at", table_name="case")
    op.create_index("ix_case_acknowledged_at", "case", ["acknowledged_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_case_acknowledged_at", table_name="case")
    op.create_index("ix_case_acknowledged_at", "case", ["acknowledged_at"])
    for name, (table, _) in NEW.items():
        op.drop_index(name, table_name=table)
