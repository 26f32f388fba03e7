"""enforcement incidents and evidence; defensive-tool access programs

Revision ID: 0012
Revises: 0005
Create Date: 2026-11-27 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enforcement_incidents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("reporter_kind", sa.String(length=20), nullable=False),
        sa.Column("reported_by", sa.String(length=36), nullable=False),
        sa.Column("affected_system", sa.String(length=1000), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("impacts", sa.JSON(), nullable=False),
        sa.Column("impact_description", sa.Text(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("ai_involvement", sa.JSON(), nullable=False),
        sa.Column("ai_description", sa.Text(), nullable=False),
        sa.Column("model_identifiers", sa.JSON(), nullable=False),
        sa.Column("registered_model_ids", sa.JSON(), nullable=False),
        sa.Column("statutes", sa.JSON(), nullable=False),
        sa.Column("atlas_techniques", sa.JSON(), nullable=False),
        sa.Column("atlas_case_studies", sa.JSON(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("personal_fields", sa.JSON(), nullable=False),
        sa.Column("personal_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("personal_wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("referral_office", sa.String(length=300), nullable=True),
        sa.Column("referral_reference", sa.String(length=200), nullable=True),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_enforcement_incidents_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_incidents")),
        sa.UniqueConstraint(
            "owner_org_id", "idempotency_key", name=op.f("uq_enforcement_incidents_owner_org_id")
        ),
    )
    op.create_index(
        op.f("ix_enforcement_incidents_created_at"), "enforcement_incidents", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_enforcement_incidents_owner_org_id"), "enforcement_incidents", ["owner_org_id"], unique=False
    )
    op.create_index(op.f("ix_enforcement_incidents_state"), "enforcement_incidents", ["state"], unique=False)
    op.create_table(
        "programs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tool_name", sa.String(length=300), nullable=True),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("eligible_org_kinds", sa.JSON(), nullable=False),
        sa.Column("eligible_sectors", sa.JSON(), nullable=False),
        sa.Column("eligible_sizes", sa.JSON(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("grant_days", sa.Integer(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_programs_owner_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("name", name=op.f("uq_programs_name")),
    )
    op.create_index(op.f("ix_programs_model_id"), "programs", ["model_id"], unique=False)
    op.create_index(op.f("ix_programs_owner_org_id"), "programs", ["owner_org_id"], unique=False)
    op.create_table(
        "enforcement_evidence",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("received_by", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("custodian", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["enforcement_incidents.id"],
            name=op.f("fk_enforcement_evidence_incident_id_enforcement_incidents"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_evidence")),
        sa.UniqueConstraint("incident_id", "sha256", name=op.f("uq_enforcement_evidence_incident_id")),
    )
    op.create_index(
        op.f("ix_enforcement_evidence_incident_id"), "enforcement_evidence", ["incident_id"], unique=False
    )
    op.create_table(
        "program_applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("program_id", sa.String(length=36), nullable=False),
        sa.Column("applicant_user_id", sa.String(length=36), nullable=False),
        sa.Column("org_kind", sa.String(length=40), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("size", sa.String(length=10), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_program_applications_owner_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_applications_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_applications")),
    )
    op.create_index(
        op.f("ix_program_applications_owner_org_id"), "program_applications", ["owner_org_id"], unique=False
    )
    op.create_index(
        op.f("ix_program_applications_program_id"), "program_applications", ["program_id"], unique=False
    )
    op.create_index(op.f("ix_program_applications_status"), "program_applications", ["status"], unique=False)
    op.create_table(
        "program_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("program_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=36), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["program_applications.id"],
            name=op.f("fk_program_grants_application_id_program_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_program_grants_owner_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_grants_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_grants")),
        sa.UniqueConstraint("application_id", name=op.f("uq_program_grants_application_id")),
    )
    op.create_index(op.f("ix_program_grants_owner_org_id"), "program_grants", ["owner_org_id"], unique=False)
    op.create_index(op.f("ix_program_grants_program_id"), "program_grants", ["program_id"], unique=False)
    op.create_table(
        "program_usage_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.String(length=36), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["program_grants.id"], name=op.f("fk_program_usage_reports_grant_id_program_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_usage_reports")),
        sa.UniqueConstraint(
            "grant_id", "period_start", "period_end", name=op.f("uq_program_usage_reports_grant_id")
        ),
    )
    op.create_index(
        op.f("ix_program_usage_reports_grant_id"), "program_usage_reports", ["grant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_program_usage_reports_grant_id"), table_name="program_usage_reports")
    op.drop_table("program_usage_reports")
    op.drop_index(op.f("ix_program_grants_program_id"), table_name="program_grants")
    op.drop_index(op.f("ix_program_grants_owner_org_id"), table_name="program_grants")
    op.drop_table("program_grants")
    op.drop_index(op.f("ix_program_applications_status"), table_name="program_applications")
    op.drop_index(op.f("ix_program_applications_program_id"), table_name="program_applications")
    op.drop_index(op.f("ix_program_applications_owner_org_id"), table_name="program_applications")
    op.drop_table("program_applications")
    op.drop_index(op.f("ix_enforcement_evidence_incident_id"), table_name="enforcement_evidence")
    op.drop_table("enforcement_evidence")
    op.drop_index(op.f("ix_programs_owner_org_id"), table_name="programs")
    op.drop_index(op.f("ix_programs_model_id"), table_name="programs")
    op.drop_table("programs")
    op.drop_index(op.f("ix_enforcement_incidents_state"), table_name="enforcement_incidents")
    op.drop_index(op.f("ix_enforcement_incidents_owner_org_id"), table_name="enforcement_incidents")
    op.drop_index(op.f("ix_enforcement_incidents_created_at"), table_name="enforcement_incidents")
    op.drop_table("enforcement_incidents")
