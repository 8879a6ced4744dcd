"""The supervision mix: who hears whom in each mode, and the saturating 20 ms sum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lendline.errors import LocalProtocolError
from lendline.telephony.media.mixer import BRIDGED, HEARS, Mode, Party, extra_sources, mix
from lendline.telephony.supervision_state import (
    TABLE,
    Action,
    LegEvent,
    LegState,
    SupervisorLegMachine,
)

C, A, S = Party.CALLER, Party.AGENT, Party.SUPERVISOR
frames = arrays(np.int16, 160)


def test_mode_table_matches_the_contact_centre_definitions() -> None:
    for mode, table in HEARS.items():
        for party, heard in table.items():
            assert party not in heard, f"{party} hears itself in {mode}"
        assert table[S] == {C, A}, "the supervisor always hears both"
        assert table[A] >= {C} and table[C] >= {A}, "caller and agent always hear each other"
    assert S not in HEARS[Mode.LISTEN][C] and S not in HEARS[Mode.LISTEN][A]
    assert S in HEARS[Mode.WHISPER][A] and S not in HEARS[Mode.WHISPER][C]
    assert all(S in HEARS[Mode.BARGE][p] for p in (C, A))


@pytest.mark.parametrize("mode", list(Mode))
def test_bridge_plus_extras_is_exactly_the_table(mode: Mode) -> None:
    extras = extra_sources(mode)
    for party in Party:
        assert BRIDGED.get(party, frozenset()) | extras[party] == HEARS[mode][party]
        assert not BRIDGED.get(party, frozenset()) & extras[party]  # nothing heard twice
    assert extras[C] == ({S} if mode is Mode.BARGE else set())
    assert extras[A] == (set() if mode is Mode.LISTEN else {S})


def test_mix_sums_and_saturates_instead_of_wrapping() -> None:
    a = np.full(160, 20000, dtype=np.int16)
    b = np.full(160, 20000, dtype=np.int16)
    c = np.full(160, -30000, dtype=np.int16)
    assert (mix([a, b]) == 32767).all()
    assert (mix([c, c]) == -32768).all()
    assert (mix([a, c]) == -10000).all()
    assert mix([None, None]) is None
    assert mix([]) is None
    assert mix([None, a]) is a  # one voice: passed through untouched
    assert mix([a, b, c]).dtype == np.int16  # type: ignore[union-attr]


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)  # a noisy shared box
@given(st.lists(st.one_of(st.none(), frames), max_size=4))
def test_mix_equals_the_clipped_wide_sum(inputs: list[np.ndarray | None]) -> None:
    present = [f for f in inputs if f is not None]
    out = mix(inputs)
    if not present:
        assert out is None
        return
    want = np.clip(np.sum([f.astype(np.int64) for f in present], axis=0), -32768, 32767)
    assert out is not None and out.dtype == np.int16 and (out == want).all()


def test_leg_machine_walks_listen_whisper_barge_without_a_new_invite() -> None:
    m = SupervisorLegMachine()
    assert m.handle(LegEvent.REQUEST, Mode.LISTEN) == (Action.INVITE,)
    assert m.state is LegState.RINGING
    assert m.handle(LegEvent.REQUEST, Mode.WHISPER) == ()  # changed while ringing
    assert m.handle(LegEvent.ANSWERED) == (Action.CONNECT, Action.APPLY_MIX)
    assert (m.state, m.mode) == (LegState.ACTIVE, Mode.WHISPER)
    assert m.handle(LegEvent.REQUEST, Mode.BARGE) == (Action.APPLY_MIX,)
    assert m.handle(LegEvent.REQUEST, Mode.LISTEN) == (Action.APPLY_MIX,)
    assert m.modes == [Mode.LISTEN, Mode.WHISPER, Mode.BARGE, Mode.LISTEN]
    assert Action.INVITE not in [
        a for _s, (_n, acts) in TABLE.items() if _s[0] is LegState.ACTIVE for a in acts
    ]


def test_supervisor_hanging_up_only_removes_its_own_leg() -> None:
    m = SupervisorLegMachine()
    m.handle(LegEvent.REQUEST, Mode.BARGE)
    m.handle(LegEvent.ANSWERED)
    acts = m.handle(LegEvent.SUPERVISOR_HUNG_UP)
    assert acts == (Action.REMOVE_MIX, Action.RELEASE) and Action.HANG_UP not in acts
    assert m.ended


@pytest.mark.parametrize("answered", [False, True])
def test_call_ending_hangs_up_the_supervisor(answered: bool) -> None:
    m = SupervisorLegMachine()
    m.handle(LegEvent.REQUEST, Mode.LISTEN)
    if answered:
        m.handle(LegEvent.ANSWERED)
    acts = m.handle(LegEvent.CALL_ENDED)
    assert acts[0] is Action.HANG_UP and acts[-1] is Action.RELEASE
    assert (Action.REMOVE_MIX in acts) is answered


def test_no_answer_releases_and_illegal_events_are_refused() -> None:
    m = SupervisorLegMachine()
    with pytest.raises(LocalProtocolError):
        m.handle(LegEvent.ANSWERED)  # nothing was rung
    with pytest.raises(LocalProtocolError):
        m.handle(LegEvent.REQUEST)  # a request needs a mode
    m.handle(LegEvent.REQUEST, Mode.LISTEN)
    assert m.handle(LegEvent.FAILED) == (Action.HANG_UP, Action.RELEASE)  # CANCEL if ringing
    for ev in LegEvent:
        with pytest.raises(LocalProtocolError) as exc:
            m.handle(ev, Mode.LISTEN)
        assert exc.value.code == "supervision_state"
