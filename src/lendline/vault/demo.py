"""Demo content for the vault: a handful of short recordings linked to demo customers and
agents, written through the same ``RecordingSink`` the media engine uses."""

from __future__ import annotations

import math
import random
import struct
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from lendline.domain.recording import RecordingMeta
from lendline.store.models import AgentRow, CustomerRow, LoanAccountRow
from lendline.store.models_compliance import RecordingRow

if TYPE_CHECKING:
    from lendline.app import Container


def tone_pcm(seconds: float, left_hz: float, right_hz: float, rate_hz: int = 8000) -> bytes:
    """Interleaved 16-bit stereo PCM: one tone for the caller, another for the agent."""
    frames = int(seconds * rate_hz)
    out = bytearray()
    for i in range(frames):
        t = i / rate_hz
        left = int(6000 * math.sin(2 * math.pi * left_hz * t))
        right = int(6000 * math.sin(2 * math.pi * right_hz * t))
        out += struct.pack("<hh", left, right)
    return bytes(out)


def seed_demo_recordings(container: Container, count: int = 12) -> str:
    with container.db.session() as s:
        if s.scalar(select(func.count()).select_from(RecordingRow)):
            return ""
        customers = s.scalars(
            select(CustomerRow).order_by(CustomerRow.customer_id).limit(count)
        ).all()
        agents = s.scalars(select(AgentRow).order_by(AgentRow.agent_id)).all()
        picks = [(c.customer_id, c.team_id) for c in customers]
        agent_ids = [a.agent_id for a in agents]
        loan = s.scalars(select(LoanAccountRow).order_by(LoanAccountRow.loan_id).limit(1)).first()
    if not picks or not agent_ids:
        return ""
    rng = random.Random(container.settings.demo_seed)
    sink = container.services["recording_sink"]
    now = container.clock.now()
    pcm = tone_pcm(3.0, 440.0, 660.0)
    for i, (customer_id, _team) in enumerate(picks):
        w = sink.open(
            RecordingMeta(
                call_id=f"demo-call-{i + 1:03d}",
                started_at=now - timedelta(hours=rng.randrange(1, 24 * 30)),
                kind="bot" if i % 4 == 3 else "call",
                customer_id=customer_id,
                agent_id=None if i % 4 == 3 else agent_ids[i % len(agent_ids)],
                caller_masked="",
            )
        )
        for off in range(0, len(pcm), 320):
            w.write(pcm[off : off + 320])
        w.close()
    if loan is not None:
        container.services["rate_review"].submit(
            offered_rate_pct=Decimal(loan.rate_pct) + Decimal("3"),
            maker="agent01",
            loan_id=loan.loan_id,
        )
    return f"{len(picks)} demo recordings in the vault, 1 rate held for review"
