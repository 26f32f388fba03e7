"""trust: the developer's consent to offer a model in programs; sign-in throttle counters

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program_model_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("developer_org_id", sa.String(length=36), nullable=False),
        sa.Column("operator_org_id", sa.String(length=36), nullable=False),
        sa.Column("participant_org_ids", sa.JSON(), nullable=False),
        sa.Column("consented_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_model_consents")),
        sa.UniqueConstraint(
            "model_id",
            "operator_org_id",
            "created_at",
            name=op.f("uq_program_model_consents_model_id"),
        ),
    )
    with op.batch_alter_table("program_model_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_model_consents_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_program_model_consents_operator_org_id"), ["operator_org_id"], unique=False
        )

    op.create_table(
        "signin_counters",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_counters")),
    )
    with op.batch_alter_table("signin_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signin_counters_window_start"), ["window_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_counters_window_start"))
    op.drop_table("signin_counters")
    with op.batch_alter_table("program_model_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_model_consents_operator_org_id"))
        batch_op.drop_index(batch_op.f("ix_program_model_consents_model_id"))
    op.drop_table("program_model_consents")
