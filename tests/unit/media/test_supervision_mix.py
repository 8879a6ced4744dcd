"""The supervision mix applied to real ``MediaSession`` objects (no sockets: each leg's
received frame is set by hand, then what each leg would send in the same tick is read)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

from lendline.clock import ManualClock
from lendline.telephony.media import MediaScheduler, MediaSession
from lendline.telephony.media.mixer import Mode
from lendline.telephony.supervision import CallSupervision, SupervisorLeg
from lendline.telephony.supervision_state import Action, LegEvent

# distinct levels: a sum tells who was heard (caller 1, agent 10, supervisor 100)
LEVEL = {"caller": 1, "agent": 10, "supervisor": 100}


class _Leg:  # the fields of ``CallLeg`` the mix uses
    def __init__(self, media: MediaSession, agent_media: MediaSession) -> None:
        self.media, self.agent_media = media, agent_media
        self.supervision: Any = None


def _session(name: str) -> MediaSession:
    clock = ManualClock()
    s = MediaSession(MediaScheduler(clock=clock), call_id=name, clock=clock, rtp_timeout_s=30)
    s._rx = np.full(160, LEVEL[name], dtype=np.int16)
    return s


def _heard(s: MediaSession) -> int:
    out = s._next_out()
    return 0 if out is None else int(out[0])


@pytest.fixture
def call() -> tuple[CallSupervision, _Leg, SupervisorLeg]:
    caller, agent, sup = _session("caller"), _session("agent"), _session("supervisor")
    caller.bridge(agent)
    sl = SupervisorLeg("supervisor01", "supervisor01", ManualClock().now(), media=sup)
    leg = _Leg(caller, agent)
    leg.supervision = sl
    return CallSupervision(cast(Any, None)), leg, sl


@pytest.mark.parametrize(
    ("mode", "caller_hears", "agent_hears"),
    [(Mode.LISTEN, 10, 1), (Mode.WHISPER, 10, 101), (Mode.BARGE, 110, 101)],
)
def test_each_leg_sends_the_mix_of_the_others(
    call: tuple[CallSupervision, _Leg, SupervisorLeg],
    mode: Mode,
    caller_hears: int,
    agent_hears: int,
) -> None:
    sup, leg, sl = call
    sl.machine.handle(LegEvent.REQUEST, Mode.LISTEN)
    sl.machine.handle(LegEvent.ANSWERED)
    sl.machine.handle(LegEvent.REQUEST, mode)
    sup._apply_mix(cast(Any, leg), sl)
    assert sl.media is not None
    assert (_heard(leg.media), _heard(leg.agent_media), _heard(sl.media)) == (
        caller_hears,
        agent_hears,
        11,  # the supervisor always hears caller + agent
    )


def test_removing_the_mix_leaves_the_plain_bridge(
    call: tuple[CallSupervision, _Leg, SupervisorLeg],
) -> None:
    sup, leg, sl = call
    sl.machine.handle(LegEvent.REQUEST, Mode.BARGE)
    sl.machine.handle(LegEvent.ANSWERED)
    sup._apply_mix(cast(Any, leg), sl)
    assert (_heard(leg.media), _heard(leg.agent_media)) == (110, 101)
    sup._run(cast(Any, leg), sl, (Action.REMOVE_MIX,))
    assert (_heard(leg.media), _heard(leg.agent_media)) == (10, 1)
    assert leg.media.bridged_to is leg.agent_media


async def test_a_closed_supervisor_leg_is_silence_not_its_last_frame(
    call: tuple[CallSupervision, _Leg, SupervisorLeg],
) -> None:
    sup, leg, sl = call
    sl.machine.handle(LegEvent.REQUEST, Mode.BARGE)
    sl.machine.handle(LegEvent.ANSWERED)
    sup._apply_mix(cast(Any, leg), sl)
    assert sl.media is not None
    await sl.media.close()
    assert (_heard(leg.media), _heard(leg.agent_media)) == (10, 1)


def test_a_leg_cannot_mix_itself_in() -> None:
    s = _session("caller")
    with pytest.raises(Exception, match="itself"):
        s.mix_in((s,))
