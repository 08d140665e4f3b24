"""a slot's previous check is the target's last clear answer (available or none) before it

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows whose previous check is still raw and was not clear: the last clear check before
    # it, or else the start of the last hour of rolled-up counts that held a clear answer.
    op.execute(
        "UPDATE slots SET previous_check_at = coalesce("
        " (SELECT max(c.started_at) FROM checks c WHERE c.target = slots.target"
        "   AND c.status IN ('available', 'none') AND c.started_at < slots.previous_check_at),"
        " (SELECT max(h.hour) FROM check_hours h WHERE h.target = slots.target"
        "   AND h.status IN ('available', 'none') AND h.hour <= slots.previous_check_at))"
        " WHERE EXISTS (SELECT 1 FROM checks p WHERE p.target = slots.target"
        "   AND p.started_at = slots.previous_check_at"
        "   AND p.status NOT IN ('available', 'none'))"
    )


def downgrade() -> None:
    pass  # the earlier meaning (the previous check of any status) cannot be recovered
