"""frontier evaluation: benchmark suites, tasks, campaigns and results

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-27 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "frontier_eval_campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("suite_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("samples_total", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("log_dir", sa.String(length=500), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_eval_campaigns_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_eval_campaigns")),
        sa.UniqueConstraint("created_by", "idempotency_key", name="uq_frontier_eval_campaigns_idempotency"),
    )
    op.create_index(
        op.f("ix_frontier_eval_campaigns_grant_id"), "frontier_eval_campaigns", ["grant_id"], unique=False
    )
    op.create_index(
        op.f("ix_frontier_eval_campaigns_model_id"), "frontier_eval_campaigns", ["model_id"], unique=False
    )
    op.create_index(
        op.f("ix_frontier_eval_campaigns_owner_org_id"),
        "frontier_eval_campaigns",
        ["owner_org_id"],
        unique=False,
    )
    op.create_table(
        "frontier_eval_suites",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("storage_path", sa.String(length=500), nullable=False),
        sa.Column("registered_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_eval_suites_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_eval_suites")),
        sa.UniqueConstraint("name", "version", name="uq_frontier_eval_suites_name_version"),
    )
    op.create_index(
        op.f("ix_frontier_eval_suites_owner_org_id"), "frontier_eval_suites", ["owner_org_id"], unique=False
    )
    op.create_table(
        "frontier_eval_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("suite_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("metric_group", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("function", sa.String(length=100), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("pass_at", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_eval_tasks_owner_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["suite_id"],
            ["frontier_eval_suites.id"],
            name=op.f("fk_frontier_eval_tasks_suite_id_frontier_eval_suites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_eval_tasks")),
        sa.UniqueConstraint("suite_id", "name", name="uq_frontier_eval_tasks_suite_name"),
    )
    op.create_index(
        op.f("ix_frontier_eval_tasks_owner_org_id"), "frontier_eval_tasks", ["owner_org_id"], unique=False
    )
    op.create_index(
        op.f("ix_frontier_eval_tasks_suite_id"), "frontier_eval_tasks", ["suite_id"], unique=False
    )
    op.create_table(
        "frontier_eval_results",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("suite_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("eval_id", sa.String(length=100), nullable=False),
        sa.Column("task_version", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("tallies", sa.JSON(), nullable=False),
        sa.Column("log_file", sa.String(length=500), nullable=False),
        sa.Column("log_sha256", sa.String(length=64), nullable=False),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["frontier_eval_campaigns.id"],
            name=op.f("fk_frontier_eval_results_campaign_id_frontier_eval_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_frontier_eval_results_owner_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["suite_id"],
            ["frontier_eval_suites.id"],
            name=op.f("fk_frontier_eval_results_suite_id_frontier_eval_suites"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["frontier_eval_tasks.id"],
            name=op.f("fk_frontier_eval_results_task_id_frontier_eval_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frontier_eval_results")),
        sa.UniqueConstraint("campaign_id", "task_id", name="uq_frontier_eval_results_task"),
    )
    op.create_index(
        op.f("ix_frontier_eval_results_campaign_id"), "frontier_eval_results", ["campaign_id"], unique=False
    )
    op.create_index(
        op.f("ix_frontier_eval_results_owner_org_id"), "frontier_eval_results", ["owner_org_id"], unique=False
    )
    op.create_index(
        op.f("ix_frontier_eval_results_suite_id"), "frontier_eval_results", ["suite_id"], unique=False
    )
    op.create_index(
        op.f("ix_frontier_eval_results_task_id"), "frontier_eval_results", ["task_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_frontier_eval_results_task_id"), table_name="frontier_eval_results")
    op.drop_index(op.f("ix_frontier_eval_results_suite_id"), table_name="frontier_eval_results")
    op.drop_index(op.f("ix_frontier_eval_results_owner_org_id"), table_name="frontier_eval_results")
    op.drop_index(op.f("ix_frontier_eval_results_campaign_id"), table_name="frontier_eval_results")
    op.drop_table("frontier_eval_results")
    op.drop_index(op.f("ix_frontier_eval_tasks_suite_id"), table_name="frontier_eval_tasks")
    op.drop_index(op.f("ix_frontier_eval_tasks_owner_org_id"), table_name="frontier_eval_tasks")
    op.drop_table("frontier_eval_tasks")
    op.drop_index(op.f("ix_frontier_eval_suites_owner_org_id"), table_name="frontier_eval_suites")
    op.drop_table("frontier_eval_suites")
    op.drop_index(op.f("ix_frontier_eval_campaigns_owner_org_id"), table_name="frontier_eval_campaigns")
    op.drop_index(op.f("ix_frontier_eval_campaigns_model_id"), table_name="frontier_eval_campaigns")
    op.drop_index(op.f("ix_frontier_eval_campaigns_grant_id"), table_name="frontier_eval_campaigns")
    op.drop_table("frontier_eval_campaigns")
