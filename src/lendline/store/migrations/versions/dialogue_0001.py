"""dialogue: conversations, turns, tickets, promises to pay, verification lockouts

Revision ID: dialogue_0001
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialogue_0001"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("dialogue",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("handoff_queue", sa.String(40), nullable=True),
        sa.Column("handoff_reason", sa.String(40), nullable=True),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("context_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_conversations_customer_id", "conversations", ["customer_id"])
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_table(
        "conversation_turns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(40),
            sa.ForeignKey(
                "conversations.conversation_id",
                name="fk_conversation_turns_conversation_id_conversations",
            ),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_text", sa.Text(), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(40), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_conversation_turns_conversation_id", "conversation_turns", ["conversation_id"]
    )
    op.create_table(
        "tickets",
        sa.Column("ticket_no", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(40), nullable=True),
        sa.Column("customer_id", sa.String(40), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tickets_customer_id", "tickets", ["customer_id"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_table(
        "promises_to_pay",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("loan_id", sa.String(40), nullable=True),
        sa.Column("conversation_id", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_promises_to_pay_customer_id", "promises_to_pay", ["customer_id"])
    op.create_table(
        "verify_lockouts",
        sa.Column("subject_digest", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("verify_lockouts")
    op.drop_index("ix_promises_to_pay_customer_id", table_name="promises_to_pay")
    op.drop_table("promises_to_pay")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_tickets_customer_id", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_conversation_turns_conversation_id", table_name="conversation_turns")
    op.drop_table("conversation_turns")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    op.drop_index("ix_conversations_customer_id", table_name="conversations")
    op.drop_table("conversations")
