"""Initial schema: pack, pack_installation, pack_dependency.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pack",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(255), nullable=False, unique=True),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("label", sa.String(1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author", sa.String(1024), nullable=True),
        sa.Column("license", sa.String(255), nullable=True),
        sa.Column("checksum", sa.String(71), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_ref", sa.String(1024), nullable=True),
        sa.Column("registry_name", sa.String(1024), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pack_installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pack_ref", sa.String(255), nullable=True),
        sa.Column("pack_version", sa.String(255), nullable=True),
        sa.Column("previous_version", sa.String(255), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_ref", sa.String(1024), nullable=True),
        sa.Column("registry_name", sa.String(1024), nullable=True),
        sa.Column("checksum", sa.String(71), nullable=True),
        sa.Column("checksum_subject", sa.String(32), nullable=True),
        sa.Column("checksum_verified", sa.Boolean(), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=True),
        sa.Column("installed_by", sa.String(255), nullable=True),
        sa.Column("installation_method", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
    )
    op.create_index("ix_pack_installation_pack_ref", "pack_installation", ["pack_ref"])
    op.create_table(
        "pack_dependency",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pack_ref", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("constraint", sa.String(1024), nullable=False),
        sa.UniqueConstraint("pack_ref", "kind", "name", name="uq_pack_dependency_ref_kind_name"),
    )
    op.create_index("ix_pack_dependency_pack_ref", "pack_dependency", ["pack_ref"])
    op.create_index("ix_pack_dependency_name", "pack_dependency", ["name"])


def downgrade() -> None:
    op.drop_index("ix_pack_dependency_name", table_name="pack_dependency")
    op.drop_index("ix_pack_dependency_pack_ref", table_name="pack_dependency")
    op.drop_table("pack_dependency")
    op.drop_index("ix_pack_installation_pack_ref", table_name="pack_installation")
    op.drop_table("pack_installation")
    op.drop_table("pack")
