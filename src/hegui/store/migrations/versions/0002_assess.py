"""assess: assessment runs and filing builds

Revision ID: 0002_assess
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_assess"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("assess",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assess_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("out_dir", sa.String(1024), nullable=False),
        sa.Column("endpoint", sa.String(512), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("via_gateway", sa.Boolean(), nullable=False),
        sa.Column("bank_version", sa.String(64), nullable=False),
        sa.Column("pack", sa.String(120), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("passed_automatic", sa.Boolean(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assess_runs"),
        sa.UniqueConstraint("run_id", name="uq_assess_runs_run_id"),
    )
    op.create_index("ix_assess_runs_scored_at", "assess_runs", ["scored_at"])
    op.create_table(
        "filing_builds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("out_dir", sa.String(1024), nullable=False),
        sa.Column("assessment_run_id", sa.String(36), nullable=True),
        sa.Column("missing_facts", sa.JSON(), nullable=False),
        sa.Column("clause_summary", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filing_builds"),
    )
    op.create_index("ix_filing_builds_built_at", "filing_builds", ["built_at"])


def downgrade() -> None:
    op.drop_index("ix_filing_builds_built_at", table_name="filing_builds")
    op.drop_table("filing_builds")
    op.drop_index("ix_assess_runs_scored_at", table_name="assess_runs")
    op.drop_table("assess_runs")
