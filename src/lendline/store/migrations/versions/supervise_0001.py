"""staff SIP accounts (supervisors' and team leads' softphones)

Revision ID: supervise_0001
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "supervise_0001"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("supervise",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_sip_accounts",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("sip_user", sa.String(64), nullable=False),
        sa.Column("sip_ha1_md5", sa.String(32), nullable=False),
        sa.Column("sip_ha1_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("sip_user", name="uq_staff_sip_accounts_sip_user"),
    )


def downgrade() -> None:
    op.drop_table("staff_sip_accounts")
