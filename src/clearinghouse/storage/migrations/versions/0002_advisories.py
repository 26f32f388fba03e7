"""advisories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 22:57:05.649381
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("severity", sa.JSON(), nullable=False),
        sa.Column("database", sa.String(length=40), nullable=False),
        sa.Column("source_format", sa.String(length=30), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
    )
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisories_database"), ["database"], unique=False)

    op.create_table(
        "kev_entries",
        sa.Column("cve_id", sa.String(length=30), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("ransomware_use", sa.String(length=20), nullable=True),
        sa.Column("short_description", sa.Text(), nullable=True),
        sa.Column("required_action", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("cwes", sa.JSON(), nullable=False),
        sa.Column("catalog_version", sa.String(length=40), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_kev_entries")),
    )
    op.create_table(
        "advisory_affected",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("advisory_id", sa.String(length=200), nullable=False),
        sa.Column("ecosystem", sa.String(length=100), nullable=False),
        sa.Column("ecosystem_variant", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("normalized_name", sa.String(length=500), nullable=False),
        sa.Column("purl", sa.String(length=1000), nullable=True),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_affected_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_affected")),
    )
    with op.batch_alter_table("advisory_affected", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisory_affected_advisory_id"), ["advisory_id"], unique=False)
        batch_op.create_index("ix_advisory_affected_package", ["ecosystem", "normalized_name"], unique=False)

    op.create_table(
        "advisory_aliases",
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("advisory_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_aliases_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", "advisory_id", name=op.f("pk_advisory_aliases")),
    )
    with op.batch_alter_table("advisory_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisory_aliases_advisory_id"), ["advisory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("advisory_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_aliases_advisory_id"))

    op.drop_table("advisory_aliases")
    with op.batch_alter_table("advisory_affected", schema=None) as batch_op:
        batch_op.drop_index("ix_advisory_affected_package")
        batch_op.drop_index(batch_op.f("ix_advisory_affected_advisory_id"))

    op.drop_table("advisory_affected")
    op.drop_table("kev_entries")
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisories_database"))

    op.drop_table("advisories")
