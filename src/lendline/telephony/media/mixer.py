"""Who hears whom while a supervisor is on a call, and the 20 ms mix (pure, no I/O).

Three parties: the caller, the agent, the supervisor. Each party hears the saturating sum
of the frames received from the parties listed for it — never its own voice::

    mode      caller hears          agent hears               supervisor hears
    listen    agent                 caller                    caller + agent
    whisper   agent                 caller + supervisor       caller + agent
    barge     agent + supervisor    caller + supervisor       caller + agent

The caller ⇄ agent bridge (``MediaSession.bridge``) already carries the first column's
"agent" and the second's "caller"; ``extra_sources`` is what a supervision adds on top of
it, so holding, consulting or transferring (which break and make the bridge) keep working.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import numpy as np

from lendline.telephony.rtp.g711 import Int16Array

INT16_MIN, INT16_MAX = -32768, 32767


class Party(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Mode(StrEnum):
    LISTEN = "listen"  # 监听
    WHISPER = "whisper"  # 耳语 (only the agent hears the supervisor)
    BARGE = "barge"  # 强插 (three-way)


C, A, S = Party.CALLER, Party.AGENT, Party.SUPERVISOR
HEARS: dict[Mode, dict[Party, frozenset[Party]]] = {
    Mode.LISTEN: {C: frozenset({A}), A: frozenset({C}), S: frozenset({C, A})},
    Mode.WHISPER: {C: frozenset({A}), A: frozenset({C, S}), S: frozenset({C, A})},
    Mode.BARGE: {C: frozenset({A, S}), A: frozenset({C, S}), S: frozenset({C, A})},
}
BRIDGED: dict[Party, frozenset[Party]] = {C: frozenset({A}), A: frozenset({C})}


def extra_sources(mode: Mode) -> dict[Party, frozenset[Party]]:
    """What each party hears in ``mode`` beyond the caller ⇄ agent bridge."""
    return {p: heard - BRIDGED.get(p, frozenset()) for p, heard in HEARS[mode].items()}


def mix(frames: Iterable[Int16Array | None]) -> Int16Array | None:
    """Saturating int16 sum of equal-length frames; ``None`` entries are silence.

    ``None`` when every input is ``None`` (nothing received: the sender sends silence).
    Sums in int32 then clips, so two loud voices clip instead of wrapping around.
    """
    present = [f for f in frames if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    n = min(len(f) for f in present)
    acc = np.zeros(n, dtype=np.int32)
    for f in present:
        acc += f[:n]
    out: Int16Array = np.clip(acc, INT16_MIN, INT16_MAX).astype(np.int16)
    return out
