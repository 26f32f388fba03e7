"""inventories

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:31:51.370557
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("internet_exposed", sa.Boolean(), nullable=False),
        sa.Column("criticality", sa.String(length=10), nullable=False),
        sa.Column("sbom_format", sa.String(length=20), nullable=False),
        sa.Column("sbom_spec_version", sa.String(length=10), nullable=True),
        sa.Column("sbom_sha256", sa.String(length=64), nullable=False),
        sa.Column("component_count", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_assets_owner_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assets_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "asset_components",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("purl", sa.String(length=1000), nullable=True),
        sa.Column("ecosystem", sa.String(length=50), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("cpe", sa.String(length=500), nullable=True),
        sa.Column("bom_ref", sa.String(length=500), nullable=True),
        sa.Column("pointer", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_components_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_components")),
    )
    with op.batch_alter_table("asset_components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_components_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index("ix_asset_components_package", ["ecosystem", "name"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("asset_components", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_components_package")
        batch_op.drop_index(batch_op.f("ix_asset_components_asset_id"))

    op.drop_table("asset_components")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_owner_org_id"))

    op.drop_table("assets")
