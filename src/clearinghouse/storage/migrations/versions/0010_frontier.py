"""frontier model review: models, inquiries, access grants, designation
policies, recommendations, determinations, trusted-partner grants

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-27 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "frontier_models",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "planned_partner_release_at",
            sa.DateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("planned_public_release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_frontier_models_owner_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_models")),
        sa.UniqueConstraint("owner_org_id", "name", "version", name="uq_frontier_models_name"),
    )
    with op.batch_alter_table("frontier_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frontier_models_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "frontier_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
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
            name=op.f("fk_frontier_policies_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_policies")),
        sa.UniqueConstraint("name", "version", name="uq_frontier_policies_version"),
    )
    with op.batch_alter_table("frontier_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frontier_policies_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "frontier_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("need_to_know", sa.JSON(), nullable=False),
        sa.Column("endpoint_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("endpoint_wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("developer_accepted_by", sa.String(length=36), nullable=True),
        sa.Column("developer_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("government_accepted_by", sa.String(length=36), nullable=True),
        sa.Column("government_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=36), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["frontier_models.id"],
            name=op.f("fk_frontier_grants_model_id_frontier_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_grants")),
        sa.UniqueConstraint("model_id", "idempotency_key", name="uq_frontier_grants_key"),
    )
    with op.batch_alter_table("frontier_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frontier_grants_model_id"), ["model_id"], unique=False)

    op.create_table(
        "frontier_inquiries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=36), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("determination_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["frontier_models.id"],
            name=op.f("fk_frontier_inquiries_model_id_frontier_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_inquiries")),
    )
    with op.batch_alter_table("frontier_inquiries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frontier_inquiries_model_id"), ["model_id"], unique=False)

    op.create_table(
        "frontier_partner_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("partner_org_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("obligations", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(length=36), nullable=True),
        sa.Column("developer_agreed_by", sa.String(length=36), nullable=True),
        sa.Column("developer_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("government_agreed_by", sa.String(length=36), nullable=True),
        sa.Column("government_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=36), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["frontier_models.id"],
            name=op.f("fk_frontier_partner_grants_model_id_frontier_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_partner_grants_partner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_partner_grants")),
        sa.UniqueConstraint(
            "model_id", "partner_org_id", "starts_at", name="uq_frontier_partner_grants_window"
        ),
    )
    with op.batch_alter_table("frontier_partner_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frontier_partner_grants_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_frontier_partner_grants_partner_org_id"), ["partner_org_id"], unique=False
        )

    op.create_table(
        "frontier_recommendations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("policy_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.Column("evaluations", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["frontier_models.id"],
            name=op.f("fk_frontier_recommendations_model_id_frontier_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_recommendations_owner_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["frontier_policies.id"],
            name=op.f("fk_frontier_recommendations_policy_id_frontier_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_recommendations")),
    )
    with op.batch_alter_table("frontier_recommendations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_frontier_recommendations_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_frontier_recommendations_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_frontier_recommendations_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_frontier_recommendations_policy_id"), ["policy_id"], unique=False
        )

    op.create_table(
        "frontier_determinations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("recommendation_id", sa.String(length=36), nullable=True),
        sa.Column("determined_by", sa.String(length=36), nullable=True),
        sa.Column("determined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("releasability", sa.String(length=16), nullable=False),
        sa.Column("releasability_reason", sa.Text(), nullable=True),
        sa.Column("releasability_decided_by", sa.String(length=36), nullable=True),
        sa.Column("releasability_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["frontier_models.id"],
            name=op.f("fk_frontier_determinations_model_id_frontier_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_determinations_owner_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["frontier_recommendations.id"],
            name=op.f("fk_frontier_determinations_recommendation_id_frontier_recommendations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_determinations")),
    )
    with op.batch_alter_table("frontier_determinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frontier_determinations_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_frontier_determinations_owner_org_id"), ["owner_org_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("frontier_determinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_determinations_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_frontier_determinations_model_id"))

    op.drop_table("frontier_determinations")
    with op.batch_alter_table("frontier_recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_recommendations_policy_id"))
        batch_op.drop_index(batch_op.f("ix_frontier_recommendations_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_frontier_recommendations_model_id"))
        batch_op.drop_index(batch_op.f("ix_frontier_recommendations_campaign_id"))

    op.drop_table("frontier_recommendations")
    with op.batch_alter_table("frontier_partner_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_partner_grants_partner_org_id"))
        batch_op.drop_index(batch_op.f("ix_frontier_partner_grants_model_id"))

    op.drop_table("frontier_partner_grants")
    with op.batch_alter_table("frontier_inquiries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_inquiries_model_id"))

    op.drop_table("frontier_inquiries")
    with op.batch_alter_table("frontier_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_grants_model_id"))

    op.drop_table("frontier_grants")
    with op.batch_alter_table("frontier_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_policies_owner_org_id"))

    op.drop_table("frontier_policies")
    with op.batch_alter_table("frontier_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frontier_models_owner_org_id"))

    op.drop_table("frontier_models")
