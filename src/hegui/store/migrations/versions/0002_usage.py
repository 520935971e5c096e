"""usage: anti-addiction sessions, daily totals, guardian controls

Revision ID: 0002_usage
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_usage"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("usage",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_sessions",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("session_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_usage_sessions"),
    )
    op.create_table(
        "usage_daily",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day", name="pk_usage_daily"),
    )
    op.create_table(
        "usage_guardian_controls",
        sa.Column("minor_user_id", sa.String(40), nullable=False),
        sa.Column("guardian_user_id", sa.String(40), nullable=False),
        sa.Column("daily_minutes", sa.Integer(), nullable=True),
        sa.Column("allowed_from", sa.String(5), nullable=True),
        sa.Column("allowed_until", sa.String(5), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("minor_user_id", name="pk_usage_guardian_controls"),
    )
    op.create_index("ix_usage_guardian_controls_guardian_user_id", "usage_guardian_controls", ["guardian_user_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_guardian_controls_guardian_user_id", table_name="usage_guardian_controls")
    op.drop_table("usage_guardian_controls")
    op.drop_table("usage_daily")
    op.drop_table("usage_sessions")
