"""site sessions and alert states

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:10:00.389255
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("target_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_session", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("alert_state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("alert_state_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("target_states", schema=None) as batch_op:
        batch_op.drop_column("alert_state_at")
        batch_op.drop_column("alert_state")
        batch_op.drop_column("site_session")
