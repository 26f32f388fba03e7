"""frontier evaluation: campaign settings (generation, error threshold), result provenance

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("frontier_eval_campaigns") as batch:
        batch.add_column(sa.Column("settings", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("worker_dir", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("frontier_eval_results") as batch:
        batch.add_column(sa.Column("provenance", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("frontier_eval_results") as batch:
        batch.drop_column("provenance")
    with op.batch_alter_table("frontier_eval_campaigns") as batch:
        batch.drop_column("worker_dir")
        batch.drop_column("settings")
