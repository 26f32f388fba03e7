"""taxii: collections, STIX object versions and status resources of the TAXII 2.1 server

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-27 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "taxii_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("writer_org_ids", sa.JSON(), nullable=False),
        sa.Column("writer_group_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_taxii_collections_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_collections")),
        sa.UniqueConstraint("alias", name=op.f("uq_taxii_collections_alias")),
    )
    with op.batch_alter_table("taxii_collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxii_collections_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "taxii_objects",
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("added_us", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("stix_type", sa.String(length=250), nullable=False),
        sa.Column("spec_version", sa.String(length=5), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("version_us", sa.BigInteger(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("added_by", sa.String(length=36), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_objects_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "added_us", name=op.f("pk_taxii_objects")),
        sa.UniqueConstraint("collection_id", "stix_id", "version_us", name="uq_taxii_objects_version"),
    )
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.create_index("ix_taxii_objects_type", ["collection_id", "stix_type"], unique=False)

    op.create_table(
        "taxii_statuses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=True),
        sa.Column("request_timestamp", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("pendings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_statuses_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_statuses")),
    )
    with op.batch_alter_table("taxii_statuses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxii_statuses_collection_id"), ["collection_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("taxii_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_statuses_collection_id"))

    op.drop_table("taxii_statuses")
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_objects_type")

    op.drop_table("taxii_objects")
    with op.batch_alter_table("taxii_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_collections_owner_org_id"))

    op.drop_table("taxii_collections")
