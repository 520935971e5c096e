"""privacy: training-use consent, purge-run log

Revision ID: 0002_privacy
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_privacy"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("privacy",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_consents",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("training_use", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_privacy_consents"),
    )
    op.create_table(
        "privacy_purge_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("older_than_days", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_purge_runs"),
    )
    op.create_index("ix_privacy_purge_runs_ts", "privacy_purge_runs", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_privacy_purge_runs_ts", table_name="privacy_purge_runs")
    op.drop_table("privacy_purge_runs")
    op.drop_table("privacy_consents")
