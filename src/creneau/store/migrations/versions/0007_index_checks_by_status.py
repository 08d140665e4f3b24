"""index checks by target, status and time (the uptime query)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_checks_target_status_started",
        "checks",
        ["target", "status", "started_at"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_checks_target_status_started", table_name="checks")
