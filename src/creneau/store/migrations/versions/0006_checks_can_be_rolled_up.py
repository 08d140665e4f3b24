"""checks can be rolled up: references to them become nullable and are cleared on delete

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's unnamed foreign keys get these names when the tables are rebuilt (batch mode).
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s"}


def _old_name(table: str, column: str) -> str:
    """The name 0001's unnamed foreign key has: PostgreSQL's own, or the batch name."""
    if op.get_context().dialect.name == "postgresql":
        return f"{table}_{column}_fkey"
    return f"fk_{table}_{column}"


def upgrade() -> None:
    with op.batch_alter_table("slots", naming_convention=NAMING) as batch:
        batch.alter_column("first_check_id", existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint(_old_name("slots", "first_check_id"), type_="foreignkey")
        batch.create_foreign_key(
            "fk_slots_first_check", "checks", ["first_check_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("notifications", naming_convention=NAMING) as batch:
        batch.drop_constraint(_old_name("notifications", "check_id"), type_="foreignkey")
        batch.create_foreign_key(
            "fk_notifications_check", "checks", ["check_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", naming_convention=NAMING) as batch:
        batch.drop_constraint("fk_notifications_check", type_="foreignkey")
        batch.create_foreign_key("fk_notifications_check_id", "checks", ["check_id"], ["id"])
    with op.batch_alter_table("slots", naming_convention=NAMING) as batch:
        batch.drop_constraint("fk_slots_first_check", type_="foreignkey")
        batch.create_foreign_key("fk_slots_first_check_id", "checks", ["first_check_id"], ["id"])
        batch.alter_column("first_check_id", existing_type=sa.Integer(), nullable=False)
