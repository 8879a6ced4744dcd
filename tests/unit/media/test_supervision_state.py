"""The supervisor leg's state table, including a stop from the browser."""

from __future__ import annotations

import pytest

from lendline.errors import LocalProtocolError
from lendline.telephony.media.mixer import Mode
from lendline.telephony.supervision_state import Action, LegEvent, LegState, SupervisorLegMachine


def _active(mode: Mode = Mode.LISTEN) -> SupervisorLegMachine:
    m = SupervisorLegMachine()
    assert m.handle(LegEvent.REQUEST, mode) == (Action.INVITE,)
    assert m.handle(LegEvent.ANSWERED) == (Action.CONNECT, Action.APPLY_MIX)
    return m


def test_stop_while_active_hangs_up_and_removes_the_mix() -> None:
    m = _active(Mode.WHISPER)
    assert m.handle(LegEvent.STOP) == (Action.HANG_UP, Action.REMOVE_MIX, Action.RELEASE)
    assert m.state is LegState.ENDED and m.ended


def test_stop_while_ringing_cancels_without_touching_the_mix() -> None:
    m = SupervisorLegMachine()
    m.handle(LegEvent.REQUEST, Mode.BARGE)
    assert m.handle(LegEvent.STOP) == (Action.HANG_UP, Action.RELEASE)
    assert m.ended


@pytest.mark.parametrize("event", [LegEvent.STOP, LegEvent.ANSWERED, LegEvent.REQUEST])
def test_nothing_happens_to_an_ended_leg(event: LegEvent) -> None:
    m = _active()
    m.handle(LegEvent.STOP)
    with pytest.raises(LocalProtocolError) as exc:
        m.handle(event, Mode.LISTEN)
    assert exc.value.code == "supervision_state"


def test_stop_on_an_idle_leg_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        SupervisorLegMachine().handle(LegEvent.STOP)


def test_modes_are_kept_in_order_and_the_last_one_applies() -> None:
    m = SupervisorLegMachine()
    m.handle(LegEvent.REQUEST, Mode.LISTEN)
    assert m.handle(LegEvent.REQUEST, Mode.WHISPER) == ()  # ringing: applied on answer
    m.handle(LegEvent.ANSWERED)
    assert m.handle(LegEvent.REQUEST, Mode.BARGE) == (Action.APPLY_MIX,)
    assert m.mode is Mode.BARGE and m.modes == [Mode.LISTEN, Mode.WHISPER, Mode.BARGE]
