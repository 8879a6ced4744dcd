"""Desktop call controls carried out on live SIP calls (``services["media_control"]``).

``hold(call_id, on)`` puts the caller on music and cuts the agent's audio, or bridges them
again; ``send_dtmf(call_id, digits)`` sends RFC 4733 keys from the agent's side to the
caller's leg (to steer a far-end menu on an outbound call). Both are called from HTTP
handler threads: the work is handed to the SIP event loop. They return False when the
call has no live SIP leg (an API-only call), so the desktop can say the media was untouched.
"""

from __future__ import annotations

from lendline.errors import ValidationError
from lendline.telephony.call_leg import CallLeg
from lendline.telephony.controller import CallController

_KEYS = frozenset("0123456789*#ABCD")


class SipMediaControl:
    def __init__(self, controller: CallController) -> None:
        self.controller = controller

    def _leg(self, call_id: str) -> CallLeg | None:
        leg = self.controller.by_call.get(call_id)
        if leg is None or leg.media is None or not leg.connected:
            return None
        return leg

    def hold(self, call_id: str, on: bool) -> bool:
        leg = self._leg(call_id)
        if leg is None:
            return False

        def apply() -> None:
            if leg.media is None or leg.agent_media is None or leg.media.closed:
                return
            self.controller.hold_caller(leg, on)

        return self.controller.call_soon(apply)

    def send_dtmf(self, call_id: str, digits: str) -> bool:
        if not digits or any(d not in _KEYS for d in digits.upper()):
            raise ValidationError(
                "DTMF keys are 0-9, *, # and A-D", field="digits", code="invalid_dtmf"
            )
        leg = self._leg(call_id)
        if leg is None:
            return False
        media = leg.media
        assert media is not None
        return self.controller.call_soon(lambda: media.send_dtmf(digits.upper()))
