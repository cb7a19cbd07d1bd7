"""an index for looking notices up by the start of their key, on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 13:00:00

The cards of a case, the messages of a task and of a reminder are found by the start of their
notice key (models/base/prefix.py): a range in byte order. SQLite's index on the key already
serves it; PostgreSQL needs one in the "C" collation, since the database's own may differ.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = "ix_notice_key_bytewise"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(INDEX, "notice", [sa.text('key COLLATE "C"')])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="notice")
