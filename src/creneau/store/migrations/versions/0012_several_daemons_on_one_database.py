"""several daemons on one database: the leadership lease and its epoch, the daemons seen,
claims on the outbox, each host's token bucket and each target's last fetch

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    leadership = op.create_table(
        "leadership",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(80), nullable=True),
        sa.Column("instance", sa.String(300), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("takeovers", sa.Integer(), nullable=False),
    )
    # The one row every term updates: no daemon ever races to create it.
    op.bulk_insert(leadership, [{"name": "daemon", "epoch": 0, "released": True, "takeovers": 0}])
    op.create_table(
        "daemons",
        sa.Column("token", sa.String(80), primary_key=True),
        sa.Column("instance", sa.String(300), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox_claims",
        sa.Column("notification_id", sa.Integer(), primary_key=True),
        sa.Column("claimed_by", sa.String(80), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name="fk_outbox_claims_notification",
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bucket_tokens", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("bucket_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "target_fetches",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("target_fetches")
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("bucket_at")
        batch_op.drop_column("bucket_tokens")
    op.drop_table("outbox_claims")
    op.drop_table("daemons")
    op.drop_table("leadership")
