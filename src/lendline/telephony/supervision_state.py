"""The supervisor leg of a call as a state table (pure; ``telephony.supervision`` drives it).

::

    state      event               new state  actions
    idle       request(mode)       ringing    invite
    ringing    request(mode)       ringing    —            (the mode is applied on answer)
    ringing    answered            active     connect, apply_mix
    ringing    failed              ended      hang_up, release   (CANCEL if still ringing)
    ringing    call_ended          ended      hang_up, release
    ringing    stop                ended      hang_up, release   (CANCEL)
    active     request(mode)       active     apply_mix    (no new INVITE)
    active     supervisor_hung_up  ended      remove_mix, release
    active     call_ended          ended      hang_up, remove_mix, release
    active     stop                ended      hang_up, remove_mix, release   (BYE)

Any other (state, event) is a ``LocalProtocolError``: the driver asked for something the
leg cannot do. ``request`` also records the mode; the driver reads ``mode`` when it
applies the mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lendline.errors import LocalProtocolError
from lendline.telephony.media.mixer import Mode


class LegState(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


class LegEvent(StrEnum):
    REQUEST = "request"
    ANSWERED = "answered"
    FAILED = "failed"
    SUPERVISOR_HUNG_UP = "supervisor_hung_up"
    CALL_ENDED = "call_ended"
    STOP = "stop"  # the supervisor stops from the browser (DELETE …/supervise)


class Action(StrEnum):
    INVITE = "invite"
    CONNECT = "connect"
    APPLY_MIX = "apply_mix"
    REMOVE_MIX = "remove_mix"
    HANG_UP = "hang_up"
    RELEASE = "release"


IDLE, RINGING, ACTIVE, ENDED = LegState.IDLE, LegState.RINGING, LegState.ACTIVE, LegState.ENDED
TABLE: dict[tuple[LegState, LegEvent], tuple[LegState, tuple[Action, ...]]] = {
    (IDLE, LegEvent.REQUEST): (RINGING, (Action.INVITE,)),
    (RINGING, LegEvent.REQUEST): (RINGING, ()),
    (RINGING, LegEvent.ANSWERED): (ACTIVE, (Action.CONNECT, Action.APPLY_MIX)),
    (RINGING, LegEvent.FAILED): (ENDED, (Action.HANG_UP, Action.RELEASE)),
    (RINGING, LegEvent.CALL_ENDED): (ENDED, (Action.HANG_UP, Action.RELEASE)),
    (RINGING, LegEvent.STOP): (ENDED, (Action.HANG_UP, Action.RELEASE)),
    (ACTIVE, LegEvent.REQUEST): (ACTIVE, (Action.APPLY_MIX,)),
    (ACTIVE, LegEvent.SUPERVISOR_HUNG_UP): (ENDED, (Action.REMOVE_MIX, Action.RELEASE)),
    (ACTIVE, LegEvent.CALL_ENDED): (ENDED, (Action.HANG_UP, Action.REMOVE_MIX, Action.RELEASE)),
    (ACTIVE, LegEvent.STOP): (ENDED, (Action.HANG_UP, Action.REMOVE_MIX, Action.RELEASE)),
}


@dataclass
class SupervisorLegMachine:
    """State, current mode and every mode requested, in order, of one supervisor leg."""

    state: LegState = LegState.IDLE
    mode: Mode = Mode.LISTEN
    modes: list[Mode] = field(default_factory=list)

    def handle(self, event: LegEvent, mode: Mode | None = None) -> tuple[Action, ...]:
        """Apply ``event``; the actions the driver must carry out, in order."""
        step = TABLE.get((self.state, event))
        if step is None:
            raise LocalProtocolError(
                f"supervisor leg: {event.value} is not allowed when {self.state.value}",
                code="supervision_state",
            )
        if event is LegEvent.REQUEST:
            if mode is None:
                raise LocalProtocolError("a request needs a mode", code="supervision_state")
            self.mode = mode
            self.modes.append(mode)
        self.state, actions = step
        return actions

    @property
    def ended(self) -> bool:
        return self.state is LegState.ENDED
