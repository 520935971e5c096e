"""corpus: training-data sources, evidence, audits, review sample, annotation checks

Revision ID: 0002_corpus
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_corpus"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("corpus",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corpus_source",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("licence", sa.String(256)),
        sa.Column("description", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_corpus_source_name"),
    )
    op.create_table(
        "corpus_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(),
                  sa.ForeignKey("corpus_source.id", ondelete="CASCADE",
                                name="fk_corpus_evidence_source_id_corpus_source"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_corpus_evidence_source_id", "corpus_evidence", ["source_id"])
    op.create_table(
        "corpus_audit",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("out_dir", sa.Text(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("unsafe", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("report", sa.JSON()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "corpus_audit_source",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.String(36),
                  sa.ForeignKey("corpus_audit.id", ondelete="CASCADE",
                                name="fk_corpus_audit_source_audit_id_corpus_audit"), nullable=False),
        sa.Column("source_id", sa.Integer(),
                  sa.ForeignKey("corpus_source.id", ondelete="CASCADE",
                                name="fk_corpus_audit_source_source_id_corpus_source"), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("unsafe", sa.Integer(), nullable=False),
        sa.Column("unsafe_ratio", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("audit_id", "source_id", name="uq_corpus_audit_source_audit_id"),
    )
    op.create_index("ix_corpus_audit_source_audit_id", "corpus_audit_source", ["audit_id"])
    op.create_index("ix_corpus_audit_source_source_id", "corpus_audit_source", ["source_id"])
    op.create_table(
        "corpus_review_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.String(36),
                  sa.ForeignKey("corpus_audit.id", ondelete="CASCADE",
                                name="fk_corpus_review_item_audit_id_corpus_audit"), nullable=False),
        sa.Column("item_key", sa.String(512), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("verdict", sa.String(8)),
        sa.Column("reviewer", sa.String(128)),
        sa.Column("note", sa.Text()),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("audit_id", "item_key", name="uq_corpus_review_item_audit_id"),
    )
    op.create_index("ix_corpus_review_item_audit_id", "corpus_review_item", ["audit_id"])
    op.create_table(
        "corpus_annotation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(256), nullable=False),
        sa.Column("annotator", sa.String(128), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("checked", sa.Boolean()),
        sa.Column("checker", sa.String(128)),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("batch", "item_id", "annotator", name="uq_corpus_annotation_batch"),
    )
    op.create_index("ix_corpus_annotation_batch", "corpus_annotation", ["batch"])


def downgrade() -> None:
    op.drop_table("corpus_annotation")
    op.drop_table("corpus_review_item")
    op.drop_table("corpus_audit_source")
    op.drop_table("corpus_audit")
    op.drop_table("corpus_evidence")
    op.drop_table("corpus_source")
