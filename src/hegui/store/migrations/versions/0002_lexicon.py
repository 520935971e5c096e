"""lexicon: terms, allow phrases, version counter, default-data seeds

Revision ID: 0002_lexicon
Revises: 0001_foundation
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_lexicon"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("lexicon",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lexicon_term",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("term", sa.String(200), nullable=False),
        sa.Column("category", sa.String(8), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("allow", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "category", "term", name="uq_lexicon_term_source_category_term"),
    )
    op.create_index("ix_lexicon_term_term", "lexicon_term", ["term"])
    op.create_index("ix_lexicon_term_category", "lexicon_term", ["category"])
    op.create_table(
        "lexicon_allow",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phrase", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "scope", "phrase", name="uq_lexicon_allow_source_scope_phrase"),
    )
    revision_table = op.create_table(
        "lexicon_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "lexicon_seed",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "version": 0, "updated_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("lexicon_seed")
    op.drop_table("lexicon_revision")
    op.drop_table("lexicon_allow")
    op.drop_index("ix_lexicon_term_category", "lexicon_term")
    op.drop_index("ix_lexicon_term_term", "lexicon_term")
    op.drop_table("lexicon_term")
