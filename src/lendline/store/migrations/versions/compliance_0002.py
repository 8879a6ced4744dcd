"""recordings: the node that writes each one (crash recovery knows what is its own)

Revision ID: compliance_0002
Revises: compliance_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compliance_0002"
down_revision: str | Sequence[str] | None = "compliance_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("node_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("node_id")
