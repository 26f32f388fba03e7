"""epss scores

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:48:44.146949
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "epss_scores",
        sa.Column("cve_id", sa.String(length=30), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("score_date", sa.String(length=20), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_epss_scores")),
    )


def downgrade() -> None:

    op.drop_table("epss_scores")
