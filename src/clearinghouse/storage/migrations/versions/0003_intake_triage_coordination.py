"""intake triage coordination

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:08:02.216712
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "pipeline_reputation",
        sa.Column("generator_key", sa.String(length=600), nullable=False),
        sa.Column("validated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received_today", sa.Integer(), nullable=False),
        sa.Column("cold_today", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("generator_key", name=op.f("pk_pipeline_reputation")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("purl", sa.String(length=1000), nullable=False),
        sa.Column("cwe", sa.JSON(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("first_reporter_finding_id", sa.String(length=36), nullable=False),
        sa.Column("first_reporter_org_id", sa.String(length=36), nullable=False),
        sa.Column("first_reported_seq", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_cases_owner_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("submitter_org_id", sa.String(length=36), nullable=False),
        sa.Column("submitter_user_id", sa.String(length=36), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rejection_reason", sa.String(length=40), nullable=True),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("queue", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("purl", sa.String(length=1000), nullable=False),
        sa.Column("package_type", sa.String(length=50), nullable=False),
        sa.Column("package_name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("vers", sa.String(length=2000), nullable=True),
        sa.Column("cwe", sa.JSON(), nullable=False),
        sa.Column("generator_key", sa.String(length=600), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("source_format", sa.String(length=10), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_findings_owner_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["submitter_org_id"],
            ["organizations.id"],
            name=op.f("fk_findings_submitter_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("submitter_org_id", "idempotency_key", name="uq_findings_submitter_key"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_generator_key"), ["generator_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_owner_org_id"), ["owner_org_id"], unique=False)
        batch_op.create_index("ix_findings_package", ["package_type", "package_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_received_at"), ["received_at"], unique=False)
        batch_op.create_index("ix_findings_state_queue", ["state", "queue"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_submitter_org_id"), ["submitter_org_id"], unique=False)

    op.create_table(
        "scan_campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("target_keys", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_scan_campaigns_owner_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_campaigns")),
    )
    with op.batch_alter_table("scan_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_campaigns_owner_org_id"), ["owner_org_id"], unique=False)

    op.create_table(
        "campaign_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("other_campaign_id", sa.String(length=36), nullable=False),
        sa.Column("overlapping_targets", sa.JSON(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["scan_campaigns.id"],
            name=op.f("fk_campaign_conflicts_campaign_id_scan_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_campaign_id"],
            ["scan_campaigns.id"],
            name=op.f("fk_campaign_conflicts_other_campaign_id_scan_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_conflicts")),
        sa.UniqueConstraint("campaign_id", "other_campaign_id", name="uq_campaign_conflict_pair"),
    )
    with op.batch_alter_table("campaign_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_conflicts_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_conflicts_other_campaign_id"), ["other_campaign_id"], unique=False
        )

    op.create_table(
        "finding_attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("finding_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_finding_attachments_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_attachments")),
    )
    with op.batch_alter_table("finding_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_attachments_finding_id"), ["finding_id"], unique=False)

    op.create_table(
        "finding_relations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("finding_id", sa.String(length=36), nullable=False),
        sa.Column("target_finding_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_finding_relations_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_finding_id"],
            ["findings.id"],
            name=op.f("fk_finding_relations_target_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_relations")),
    )
    with op.batch_alter_table("finding_relations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_relations_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_finding_relations_finding_id"), ["finding_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_finding_relations_target_finding_id"), ["target_finding_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_finding_relations_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("finding_relations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_relations_updated_at"))
        batch_op.drop_index(batch_op.f("ix_finding_relations_target_finding_id"))
        batch_op.drop_index(batch_op.f("ix_finding_relations_finding_id"))
        batch_op.drop_index(batch_op.f("ix_finding_relations_case_id"))

    op.drop_table("finding_relations")
    with op.batch_alter_table("finding_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_attachments_finding_id"))

    op.drop_table("finding_attachments")
    with op.batch_alter_table("campaign_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_conflicts_other_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_conflicts_campaign_id"))

    op.drop_table("campaign_conflicts")
    with op.batch_alter_table("scan_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_campaigns_owner_org_id"))

    op.drop_table("scan_campaigns")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_submitter_org_id"))
        batch_op.drop_index("ix_findings_state_queue")
        batch_op.drop_index(batch_op.f("ix_findings_received_at"))
        batch_op.drop_index("ix_findings_package")
        batch_op.drop_index(batch_op.f("ix_findings_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_findings_generator_key"))
        batch_op.drop_index(batch_op.f("ix_findings_content_hash"))
        batch_op.drop_index(batch_op.f("ix_findings_case_id"))
        batch_op.drop_index(batch_op.f("ix_findings_campaign_id"))

    op.drop_table("findings")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_owner_org_id"))

    op.drop_table("cases")
    op.drop_table("pipeline_reputation")
