"""Tables of the telephony feature beyond the agents' own SIP columns.

``staff_sip_accounts``: the softphones of supervisors and team leads (users who may listen
in, whisper and barge) — they are not agents, so they have no ``agents`` row to carry a SIP
user. Only the digest HA1s are stored, never the password.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lendline.store.base import Base


class StaffSipAccountRow(Base):
    __tablename__ = "staff_sip_accounts"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)  # users.username
    sip_user: Mapped[str] = mapped_column(String(64), unique=True)
    sip_ha1_md5: Mapped[str] = mapped_column(String(32))
    sip_ha1_sha256: Mapped[str] = mapped_column(String(64))
