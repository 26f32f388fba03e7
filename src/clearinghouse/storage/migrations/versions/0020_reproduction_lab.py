"""reproduction lab: jobs, runs, bisections, watched packages

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-07 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repro_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("finding_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("claimed_version", sa.String(length=200), nullable=True),
        sa.Column("fix_version", sa.String(length=200), nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("fix_verified", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_repro_jobs_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repro_jobs")),
    )
    with op.batch_alter_table("repro_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repro_jobs_finding_id"), ["finding_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repro_jobs_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repro_jobs_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_repro_jobs_status_priority", ["status", "priority"], unique=False)
    op.create_table(
        "repro_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("finding_id", sa.String(length=36), nullable=False),
        sa.Column("case_key", sa.String(length=36), nullable=False),
        sa.Column("package_type", sa.String(length=50), nullable=False),
        sa.Column("package_name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reproduced", sa.Boolean(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=True),
        sa.Column("log_sha256", sa.String(length=64), nullable=True),
        sa.Column("log_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("log_wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("reused_from", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["repro_jobs.id"], name=op.f("fk_repro_runs_job_id_repro_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repro_runs")),
    )
    with op.batch_alter_table("repro_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repro_runs_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repro_runs_finding_id"), ["finding_id"], unique=False)
        batch_op.create_index(
            "ix_repro_runs_dedup",
            ["case_key", "package_type", "package_name", "version", "spec_sha256"],
            unique=False,
        )
    op.create_table(
        "repro_bisections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("finding_id", sa.String(length=36), nullable=False),
        sa.Column("first_affected", sa.String(length=200), nullable=True),
        sa.Column("first_fixed", sa.String(length=200), nullable=True),
        sa.Column("last_affected", sa.String(length=200), nullable=True),
        sa.Column("first_affected_exact", sa.Boolean(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=True),
        sa.Column("comparisons", sa.JSON(), nullable=False),
        sa.Column("probes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["repro_jobs.id"],
            name=op.f("fk_repro_bisections_job_id_repro_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repro_bisections")),
    )
    with op.batch_alter_table("repro_bisections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repro_bisections_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repro_bisections_finding_id"), ["finding_id"], unique=False)
    op.create_table(
        "repro_watch",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("package_type", sa.String(length=50), nullable=False),
        sa.Column("package_name", sa.String(length=500), nullable=False),
        sa.Column("newest_version", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repro_watch")),
    )
    with op.batch_alter_table("repro_watch", schema=None) as batch_op:
        batch_op.create_index("ux_repro_watch_package", ["package_type", "package_name"], unique=True)


def downgrade() -> None:
    op.drop_table("repro_watch")
    op.drop_table("repro_bisections")
    op.drop_table("repro_runs")
    op.drop_table("repro_jobs")
