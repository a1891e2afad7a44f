"""Curation: API tokens, the audit trail of changes, and record versions.

``api_tokens`` keeps only each token's SHA-256; ``changes`` records every write (who, when,
operation, the record before and after); works, people and themes get a ``version`` that
every update must name (optimistic concurrency).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('editor', 'admin')", name=op.f("ck_api_tokens_scope_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_slug", sa.String(length=200), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_subject", "changes", ["subject_type", "subject_slug", "id"])
    for table in ("works", "people", "themes"):  # plain ALTER TABLE: SQLite's FTS5 triggers stay
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in ("works", "people", "themes"):  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
        op.execute(f"ALTER TABLE {table} DROP COLUMN version")
    op.drop_index("ix_changes_subject", table_name="changes")
    op.drop_table("changes")
    op.drop_table("api_tokens")
