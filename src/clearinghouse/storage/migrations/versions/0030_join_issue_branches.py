"""join the branches of issues 12-19

Revision ID: 0030
Revises: 0017, 0020, 0021, 0022, 0024
Create Date: 2026-12-07 19:40:00

Trust (0017), the reproduction lab (0020), the frontier evaluation's settings (0021), advisory
matches (0022) and directive leads (0024) were built side by side from 0015; this revision joins
them, so the schema has one head again.
"""

from collections.abc import Sequence

revision: str = "0030"
down_revision: str | Sequence[str] | None = ("0017", "0020", "0021", "0022", "0024")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
