"""the releases sites announce, followed per target and instant until they end (issue 26)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("week", sa.Date(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("released_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_ready", sa.Boolean(), nullable=True),
        sa.Column("said", sa.String(300), nullable=False),  # expected.SAID_LIMIT
        sa.Column("first_check_id", sa.Integer(), nullable=True),
        sa.Column("last_check_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_check_id"],
            ["checks.id"],
            name="fk_announcements_first_check",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["last_check_id"],
            ["checks.id"],
            name="fk_announcements_last_check",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("target", "at", name="uq_announcements_target_at"),
    )
    op.create_index("ix_announcements_target_first_seen", "announcements", ["target", "first_seen"])


def downgrade() -> None:
    op.drop_index("ix_announcements_target_first_seen", table_name="announcements")
    op.drop_table("announcements")
