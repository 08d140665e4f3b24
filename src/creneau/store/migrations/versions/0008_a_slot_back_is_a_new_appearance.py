"""a slot that comes back is a new appearance: one row per (slot, first_seen)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT = ["target", "guichet_id", "start"]


def upgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.drop_constraint("uq_slots_target_guichet_start", type_="unique")
        batch.create_unique_constraint("uq_slots_appearance", [*SLOT, "first_seen"])


def downgrade() -> None:
    # Keeps the latest appearance of each slot, as creneau did before 0008.
    op.execute(
        "DELETE FROM slots WHERE EXISTS (SELECT 1 FROM slots AS later"
        " WHERE later.target = slots.target AND later.guichet_id = slots.guichet_id"
        " AND later.start = slots.start AND later.first_seen > slots.first_seen)"
    )
    with op.batch_alter_table("slots") as batch:
        batch.drop_constraint("uq_slots_appearance", type_="unique")
        batch.create_unique_constraint("uq_slots_target_guichet_start", SLOT)
