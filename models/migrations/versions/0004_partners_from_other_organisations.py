"""partners from other organisations: member.team/enterprise, the door, referral.origin_channel

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 09:00:00

Members from another Slack workspace (Slack Connect) are recognised by (team, user); a partner
agency's channel holds one pinned door message; a memo sent from a door remembers the channel, so
the receipt and later notices can reach a referrer whom a DM cannot reach.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(
            sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch.add_column(
            sa.Column("enterprise", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    with op.batch_alter_table("referral") as batch:
        batch.add_column(
            sa.Column("origin_channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.create_table(
        "partnerdoor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id"),
    )
    with op.batch_alter_table("partnerdoor") as batch:
        batch.create_index(batch.f("ix_partnerdoor_channel"), ["channel"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partnerdoor") as batch:
        batch.drop_index(batch.f("ix_partnerdoor_channel"))
    op.drop_table("partnerdoor")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("origin_channel")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("enterprise")
        batch.drop_column("team")
