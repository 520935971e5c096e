"""cases: complaints, notes, PI-rights requests, incidents, take-downs, violations, sanctions, rectification

Revision ID: 0002_cases
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_cases"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("cases",)
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
INDEXES: tuple[tuple[str, str], ...] = (
    ("complaints", "status"), ("complaints", "user_id"), ("complaints", "due_at"),
    ("case_notes", "case_id"),
    ("pi_requests", "user_id"), ("pi_requests", "status"), ("pi_requests", "due_at"),
    ("incidents", "opened_at"), ("incidents", "status"), ("incidents", "record_id"), ("incidents", "user_id"),
    ("takedowns", "incident_id"),
    ("violations", "user_id"), ("violations", "ts"),
    ("sanctions", "user_id"),
    ("rectification_items", "incident_id"), ("rectification_items", "status"), ("rectification_items", "due_at"),
)


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("ticket", sa.String(32), nullable=False),
        sa.Column("category", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=True),
        sa.Column("contact_kind", sa.String(8), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("record_ids", sa.Text(), nullable=False),
        sa.Column("sanction_id", sa.Integer(), nullable=True),
        sa.Column("assignee", sa.String(40), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("ack_due", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("notified_at", TZ, nullable=True),
        sa.Column("text_purged_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
        sa.UniqueConstraint("ticket", name="uq_complaints_ticket"),
    )
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_notes"),
    )
    op.create_table(
        "pi_requests",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pi_requests"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("user_id", sa.String(40), nullable=True),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_table(
        "takedowns",
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("incident_id", sa.String(40), nullable=True),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("by", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_takedowns"),
    )
    op.create_table(
        "violations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_violations"),
        sa.UniqueConstraint("record_id", name="uq_violations_record_id"),
    )
    op.create_table(
        "sanctions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("until", TZ, nullable=True),
        sa.Column("lifted_at", TZ, nullable=True),
        sa.Column("lift_reason", sa.String(400), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sanctions"),
    )
    op.create_table(
        "rectification_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rectification_items"),
    )
    for table, col in INDEXES:
        op.create_index(f"ix_{table}_{col}", table, [col])


def downgrade() -> None:
    for table, col in reversed(INDEXES):
        op.drop_index(f"ix_{table}_{col}", table_name=table)
    for table in ("rectification_items", "sanctions", "violations", "takedowns", "incidents", "pi_requests",
                  "case_notes", "complaints"):
        op.drop_table(table)
