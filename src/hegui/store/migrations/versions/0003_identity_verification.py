"""identity: real-name profiles, one-time codes, service agreements and acceptances

Revision ID: 0003_identity_verification
Revises: 0002_identity
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_identity_verification"
down_revision: str | Sequence[str] | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_profiles",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("name_sealed", sa.Text(), nullable=True),
        sa.Column("doc_type", sa.String(24), nullable=True),
        sa.Column("doc_sealed", sa.Text(), nullable=True),
        sa.Column("doc_hash", sa.String(64), nullable=True),
        sa.Column("mobile_sealed", sa.Text(), nullable=True),
        sa.Column("mobile_hash", sa.String(64), nullable=True),
        sa.Column("mobile_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_source", sa.String(16), nullable=True),
        sa.Column("method", sa.String(40), nullable=True),
        sa.Column("verified_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(400), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_identity_profiles"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_identity_profiles_user_id_users"),
    )
    op.create_index("ix_identity_profiles_doc_hash", "identity_profiles", ["doc_hash"])
    op.create_index("ix_identity_profiles_mobile_hash", "identity_profiles", ["mobile_hash"])
    op.create_table(
        "identity_codes",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("mobile_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_codes"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_identity_codes_user_id_users"),
    )
    op.create_index("ix_identity_codes_user_id", "identity_codes", ["user_id"])
    op.create_index("ix_identity_codes_mobile_hash", "identity_codes", ["mobile_hash"])
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agreements"),
        sa.UniqueConstraint("version", name="uq_agreements_version"),
    )
    op.create_table(
        "agreement_acceptances",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agreement_acceptances"),
        sa.UniqueConstraint("user_id", "version", name="uq_agreement_acceptances_user_version"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_agreement_acceptances_user_id_users"),
    )
    op.create_index("ix_agreement_acceptances_user_id", "agreement_acceptances", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_agreement_acceptances_user_id", table_name="agreement_acceptances")
    op.drop_table("agreement_acceptances")
    op.drop_table("agreements")
    op.drop_index("ix_identity_codes_mobile_hash", table_name="identity_codes")
    op.drop_index("ix_identity_codes_user_id", table_name="identity_codes")
    op.drop_table("identity_codes")
    op.drop_index("ix_identity_profiles_mobile_hash", table_name="identity_profiles")
    op.drop_index("ix_identity_profiles_doc_hash", table_name="identity_profiles")
    op.drop_table("identity_profiles")
