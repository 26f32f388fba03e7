"""coordination: vendor threads, statuses, aliases, advisory revisions; notifications

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-27 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_attempts_delivery_id"), ["delivery_id"], unique=False)

    op.create_table(
        "notification_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=True),
        sa.Column("ssvc", sa.String(length=20), nullable=True),
        sa.Column("resource_kind", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=True),
        sa.Column("markings", sa.JSON(), nullable=False),
        sa.Column("any_of", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_events_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_events_kind"), ["kind"], unique=False)

    op.create_table(
        "notification_settings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "advisory_revisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(length=36), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_advisory_revisions_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_advisory_revisions_owner_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_revisions")),
        sa.UniqueConstraint("case_id", "number", name="uq_advisory_revisions_number"),
    )
    with op.batch_alter_table("advisory_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisory_revisions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_advisory_revisions_owner_org_id"), ["owner_org_id"], unique=False
        )

    op.create_table(
        "case_aliases",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("assigned_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_aliases_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_aliases")),
    )
    with op.batch_alter_table("case_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_aliases_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_coordination",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("disclosure_days", sa.Integer(), nullable=False),
        sa.Column("first_vendor_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("embargo_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exploited_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["cases.id"], name=op.f("fk_case_coordination_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_coordination")),
    )
    op.create_table(
        "digest_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("email_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_digest_items_event_id_notification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_digest_items_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_items")),
        sa.UniqueConstraint("user_id", "event_id", name="uq_digest_items_pair"),
    )
    with op.batch_alter_table("digest_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_items_user_id"), ["user_id"], unique=False)

    op.create_table(
        "email_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_email_deliveries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_deliveries")),
    )
    with op.batch_alter_table("email_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_deliveries_user_id"), ["user_id"], unique=False)

    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("email_mode", sa.String(length=12), nullable=False),
        sa.Column("min_severity", sa.String(length=10), nullable=True),
        sa.Column("ssvc_decisions", sa.JSON(), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["users.id"], name=op.f("fk_notification_preferences_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "vendor_threads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("vendor_org_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("brief_title", sa.String(length=500), nullable=False),
        sa.Column("brief", sa.Text(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_by", sa.String(length=36), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("compartments", sa.JSON(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=False),
        sa.Column("sharing_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_vendor_threads_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organizations.id"], name=op.f("fk_vendor_threads_owner_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_org_id"],
            ["organizations.id"],
            name=op.f("fk_vendor_threads_vendor_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_threads")),
        sa.UniqueConstraint("case_id", "vendor_org_id", name="uq_vendor_threads_case_vendor"),
    )
    with op.batch_alter_table("vendor_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_threads_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendor_threads_owner_org_id"), ["owner_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendor_threads_vendor_org_id"), ["vendor_org_id"], unique=False)

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_user_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("secret_wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_webhook_subscriptions_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_webhook_subscriptions_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_subscriptions_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_subscriptions_owner_user_id"), ["owner_user_id"], unique=False
        )

    op.create_table(
        "vendor_thread_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("thread_id", sa.String(length=36), nullable=False),
        sa.Column("author_user_id", sa.String(length=36), nullable=True),
        sa.Column("author_org_id", sa.String(length=36), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["vendor_threads.id"],
            name=op.f("fk_vendor_thread_messages_thread_id_vendor_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_thread_messages")),
    )
    with op.batch_alter_table("vendor_thread_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_thread_messages_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "vendor_thread_products",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("thread_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=1000), nullable=False),
        sa.Column("product_name", sa.String(length=500), nullable=False),
        sa.Column("purl", sa.String(length=1000), nullable=True),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("justification", sa.String(length=60), nullable=True),
        sa.Column("impact_statement", sa.Text(), nullable=True),
        sa.Column("action_statement", sa.Text(), nullable=True),
        sa.Column("fixed_versions", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["vendor_threads.id"],
            name=op.f("fk_vendor_thread_products_thread_id_vendor_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_thread_products")),
        sa.UniqueConstraint("thread_id", "product_id", name="uq_vendor_thread_products_product"),
    )
    with op.batch_alter_table("vendor_thread_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_thread_products_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_notification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_pair"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_subscription_id"), ["subscription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_event_id"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("vendor_thread_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_thread_products_thread_id"))

    op.drop_table("vendor_thread_products")
    with op.batch_alter_table("vendor_thread_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_thread_messages_thread_id"))

    op.drop_table("vendor_thread_messages")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_subscriptions_owner_user_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_subscriptions_org_id"))

    op.drop_table("webhook_subscriptions")
    with op.batch_alter_table("vendor_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_threads_vendor_org_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_threads_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_threads_case_id"))

    op.drop_table("vendor_threads")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("email_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_deliveries_user_id"))

    op.drop_table("email_deliveries")
    with op.batch_alter_table("digest_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_items_user_id"))

    op.drop_table("digest_items")
    op.drop_table("case_coordination")
    with op.batch_alter_table("case_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_aliases_case_id"))

    op.drop_table("case_aliases")
    with op.batch_alter_table("advisory_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_revisions_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_advisory_revisions_case_id"))

    op.drop_table("advisory_revisions")
    op.drop_table("notification_settings")
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_events_kind"))
        batch_op.drop_index(batch_op.f("ix_notification_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_notification_events_case_id"))

    op.drop_table("notification_events")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_attempts_delivery_id"))

    op.drop_table("delivery_attempts")
