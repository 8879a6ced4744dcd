"""outbound campaigns

Revision ID: outbound_0001
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outbound_0001"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("outbound",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("tokens_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "campaign_targets",
        sa.Column(
            "campaign_id", sa.String(40), sa.ForeignKey("campaigns.campaign_id"), primary_key=True
        ),
        sa.Column(
            "customer_id", sa.String(40), sa.ForeignKey("customers.customer_id"), primary_key=True
        ),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(40), nullable=True),
        sa.Column("resolved_by", sa.String(10), nullable=True),
    )
    op.create_index("ix_campaign_targets_state", "campaign_targets", ["state"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "campaign_id", sa.String(40), sa.ForeignKey("campaigns.campaign_id"), nullable=False
        ),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
    )
    op.create_index("ix_campaign_attempts_campaign_id", "campaign_attempts", ["campaign_id"])
    op.create_index("ix_campaign_attempts_customer_id", "campaign_attempts", ["customer_id"])


def downgrade() -> None:
    op.drop_table("campaign_attempts")
    op.drop_table("campaign_targets")
    op.drop_table("campaigns")
