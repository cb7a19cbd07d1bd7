"""clicks on channel cards, taken at the door and done by the worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00

The door answers a click on a card (引き受ける) as soon as the click is stored; the worker does
the action and answers the person (handlers/common/deferred.py). The row holds ids only.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.base import db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("next_attempt_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_at", db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_click_due", "click", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_click_due", table_name="click")
    op.drop_table("click")
