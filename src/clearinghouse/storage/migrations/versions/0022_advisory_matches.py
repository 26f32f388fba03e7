"""advisory matches, remediation status on matches, package keys on components, TAXII advisory feeds

Revision ID: 0022
Revises: 0015
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _remediation() -> list[sa.Column[object]]:
    return [
        sa.Column("status", sa.String(length=20), nullable=False, server_default="open"),
        sa.Column("status_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("status_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vex_justification", sa.String(length=60), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False, server_default=""),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.String(length=36), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("taxii_collections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("advisory_tlps", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("asset_components", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_key", sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column("alias_key", sa.String(length=600), nullable=True))
        batch_op.create_index(batch_op.f("ix_asset_components_package_key"), ["package_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_components_alias_key"), ["alias_key"], unique=False)
    with op.batch_alter_table("matches", schema=None) as batch_op:
        for column in _remediation():
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_matches_status"), ["status"], unique=False)
    op.create_table(
        "advisory_matches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("advisory_id", sa.String(length=200), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("component_purl", sa.String(length=1000), nullable=True),
        sa.Column("component_name", sa.String(length=500), nullable=False),
        sa.Column("component_version", sa.String(length=200), nullable=True),
        sa.Column("component_pointer", sa.String(length=500), nullable=False),
        sa.Column("package", sa.String(length=600), nullable=False),
        sa.Column("package_pointer", sa.String(length=100), nullable=False),
        sa.Column("matched_range", sa.String(length=2000), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("affected", sa.Boolean(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("vulnerability_ids", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=True),
        sa.Column("cvss_vector", sa.String(length=300), nullable=True),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("fixed_version", sa.String(length=200), nullable=True),
        sa.Column("fixed_versions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_remediation(),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_advisory_matches_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_advisory_matches_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_matches")),
        sa.UniqueConstraint("key", name=op.f("uq_advisory_matches_key")),
    )
    op.create_index(
        op.f("ix_advisory_matches_advisory_id"), "advisory_matches", ["advisory_id"], unique=False
    )
    op.create_index(op.f("ix_advisory_matches_asset_id"), "advisory_matches", ["asset_id"], unique=False)
    op.create_index(
        op.f("ix_advisory_matches_owner_org_id"), "advisory_matches", ["owner_org_id"], unique=False
    )
    op.create_index(op.f("ix_advisory_matches_status"), "advisory_matches", ["status"], unique=False)
    op.create_index(
        "ix_advisory_matches_asset_advisory", "advisory_matches", ["asset_id", "advisory_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("advisory_matches")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_status"))
        for column in _remediation():
            batch_op.drop_column(column.name)
    with op.batch_alter_table("taxii_collections", schema=None) as batch_op:
        batch_op.drop_column("advisory_tlps")
    with op.batch_alter_table("asset_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_components_alias_key"))
        batch_op.drop_index(batch_op.f("ix_asset_components_package_key"))
        batch_op.drop_column("alias_key")
        batch_op.drop_column("package_key")
