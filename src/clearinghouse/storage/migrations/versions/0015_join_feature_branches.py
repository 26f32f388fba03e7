"""join the feature branches

The parts built side by side (priority and matching, coordination and
notifications, TAXII, frontier review and evaluation, enforcement and programs,
the web console) each added their tables in a revision branching from 0005.
This revision joins them, so the schema has one head again.

Revision ID: 0015
Revises: 0006, 0007, 0009, 0010, 0011, 0012, 0013
Create Date: 2026-11-27 02:30:00
"""

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | Sequence[str] | None = ("0006", "0007", "0009", "0010", "0011", "0012", "0013")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches' tables are independent of each other."""


def downgrade() -> None:
    """Nothing to change."""
