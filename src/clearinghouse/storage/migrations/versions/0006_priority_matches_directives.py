"""matches, case scores, SSVC inputs, directives and BOD 26-04 notices

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directives",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("instrument", sa.String(length=100), nullable=False),
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("acting_through", sa.String(length=300), nullable=False),
        sa.Column("consulted", sa.JSON(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("standing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("deliverable", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directives")),
        sa.UniqueConstraint("key", name=op.f("uq_directives_key")),
    )
    op.create_table(
        "case_scores",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=5), nullable=False),
        sa.Column("vector", sa.String(length=300), nullable=False),
        sa.Column("base_score", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("temporal_score", sa.Float(), nullable=True),
        sa.Column("environmental_score", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_scores_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_scores")),
        sa.UniqueConstraint("key", name=op.f("uq_case_scores_key")),
    )
    op.create_index(op.f("ix_case_scores_case_id"), "case_scores", ["case_id"], unique=False)
    op.create_table(
        "case_ssvc_inputs",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_ssvc_inputs_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_ssvc_inputs")),
    )
    op.create_table(
        "matches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
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
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_matches_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_matches_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_matches_owner_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("key", name=op.f("uq_matches_key")),
    )
    op.create_index(op.f("ix_matches_asset_id"), "matches", ["asset_id"], unique=False)
    op.create_index("ix_matches_case_asset", "matches", ["case_id", "asset_id"], unique=False)
    op.create_index(op.f("ix_matches_case_id"), "matches", ["case_id"], unique=False)
    op.create_index(op.f("ix_matches_owner_org_id"), "matches", ["owner_org_id"], unique=False)
    op.create_table(
        "bod2604_notices",
        sa.Column("match_id", sa.String(length=36), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"], ["matches.id"], name=op.f("fk_bod2604_notices_match_id_matches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("match_id", name=op.f("pk_bod2604_notices")),
    )


def downgrade() -> None:
    op.drop_table("bod2604_notices")
    op.drop_index("ix_matches_owner_org_id", table_name="matches")
    op.drop_index("ix_matches_case_id", table_name="matches")
    op.drop_index("ix_matches_case_asset", table_name="matches")
    op.drop_index("ix_matches_asset_id", table_name="matches")
    op.drop_table("matches")
    op.drop_table("case_ssvc_inputs")
    op.drop_index("ix_case_scores_case_id", table_name="case_scores")
    op.drop_table("case_scores")
    op.drop_table("directives")
