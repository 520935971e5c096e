"""foundation: installation table

Revision ID: 0001_foundation
Revises:
Each domain package adds its tables on its own branch off this revision
(``down_revision = "0001_foundation"``, ``branch_labels = ("<domain>",)``); ``upgrade heads``
applies them all.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("foundation",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("installation_id", sa.String(36), nullable=False),
        sa.Column("hegui_version", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("installation_id", name="uq_installation_installation_id"),
    )


def downgrade() -> None:
    op.drop_table("installation")
