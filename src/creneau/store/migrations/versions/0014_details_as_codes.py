"""a check's detail and a host's breaker reason as a code and its parameters, rendered in the
reader's language; older rows keep their English text in `detail` / `reason`

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail_code", sa.String(60), nullable=True))
        batch_op.add_column(sa.Column("detail_params", sa.JSON(), nullable=True))
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(60), nullable=True))
        batch_op.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("reason_params")
        batch_op.drop_column("reason_code")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_column("detail_params")
        batch_op.drop_column("detail_code")
