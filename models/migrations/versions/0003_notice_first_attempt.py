"""notice.first_attempt_at: when a notice was first handed to Slack

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 00:30:00

After a crash or a restore the delivery loop looks in the channel for a notice that may have
been posted already; it reads `conversations.history` only from just before this moment
(bot/delivery.py), so a busy channel costs a few pages, not its whole day.
"""

import sqlalchemy as sa
from alembic import op

from models.base.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice") as batch:
        batch.add_column(sa.Column("first_attempt_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notice") as batch:
        batch.drop_column("first_attempt_at")
