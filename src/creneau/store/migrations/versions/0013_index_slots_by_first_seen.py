"""index slots by target and first seen: the dashboard's last release per target is two
index seeks, not a scan of every slot

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_slots_target_first_seen", "slots", ["target", "first_seen"])


def downgrade() -> None:
    op.drop_index("ix_slots_target_first_seen", table_name="slots")
