"""directives: every lead of a directive

Revision ID: 0024
Revises: 0015
Create Date: 2026-12-07 18:30:00

EO 14409 gives some directives several leads (§3: the Treasury, War through NSA, Homeland
Security through CISA). ``leads`` keeps them all. Rows an administrator added get their one
lead from ``actor``/``acting_through``; rows of the package's seed file are left empty so that
``directives.services.ensure_seeded`` corrects them from the rebuilt file, through the ledger.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys of every seed file released so far (their rows are corrected by the seeding code).
_SEEDED = (
    "eo14409-2-national-security-systems",
    "eo14409-2-war-department-systems",
    "eo14409-2c-cisa-directives-and-tool-access",
    "eo14409-2-clearinghouse",
    "eo14409-2-grant-review",
    "eo14409-2-hiring",
    "eo14409-3-benchmarking-process",
    "eo14409-3-voluntary-framework",
    "eo14409-4-enforcement-priority",
    "bod-26-04-agency-policies",
    "bod-26-04-full-use",
)


def upgrade() -> None:
    op.add_column("directives", sa.Column("leads", sa.JSON(), nullable=False, server_default="[]"))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, key, actor, acting_through FROM directives")).all()
    for row in rows:
        if row.key in _SEEDED:
            continue
        leads = [{"office": row.actor, "acting_through": row.acting_through or ""}]
        conn.execute(
            sa.text("UPDATE directives SET leads = :leads WHERE id = :id"),
            {"leads": json.dumps(leads), "id": row.id},
        )


def downgrade() -> None:
    op.drop_column("directives", "leads")
