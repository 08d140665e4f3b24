"""release times kept with slots and hourly check aggregates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:06:11.563215
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_hours",
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("target", "hour", "status"),
    )
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("previous_check_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Slots recorded before this revision: the check before the one that first saw them.
    op.execute(
        "UPDATE slots SET previous_check_at = (SELECT max(c.started_at) FROM checks c"
        " JOIN checks f ON f.id = slots.first_check_id"
        " WHERE c.target = f.target AND c.started_at < f.started_at)"
    )


def downgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_column("previous_check_at")

    op.drop_table("check_hours")
