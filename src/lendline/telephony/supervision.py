"""Listen-in, whisper and barge on live SIP calls (``services["media_supervision"]``).

``supervise(call_id, supervisor=, mode=)`` rings the supervisor's registered softphone
(``AgentLegs.ring_phone``, as a warm transfer rings a colleague) and returns at once
(``ringing``); once the phone answers the supervisor is mixed into the call's media (who
hears whom: ``telephony.media.mixer``). Asking again with another mode changes the mix on
the same leg — no new INVITE. ``stop`` (the browser's "结束监听") or the supervisor hanging
up removes the leg and leaves the call as it was; the call ending hangs the supervisor up.
The leg's life is the table in ``telephony.supervision_state``; every change is announced
as ``CallSupervisionChanged`` on the bus (the wallboard marker, the agent's notice, the
outcome of a ringing phone — ``web.desktop_feed`` pushes them).

The call record keeps who supervised, in which mode and when (``context["supervision"]``,
through ``CallCenter.attach_media``). The recording stays the caller's leg, left = the
caller, right = what the caller heard: a barge is in it, a whisper is not (the customer
never heard it; the record says it happened).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from lendline.domain.events import CallSupervisionChanged
from lendline.errors import Conflict, LendlineError, UpstreamError, ValidationError
from lendline.telephony.media import MediaSession
from lendline.telephony.media.mixer import Mode, Party, extra_sources
from lendline.telephony.sip.session import InviteSession, SessionState
from lendline.telephony.supervision_state import Action, LegEvent, LegState, SupervisorLegMachine

if TYPE_CHECKING:
    from lendline.telephony.call_leg import CallLeg
    from lendline.telephony.controller import CallController

log = structlog.get_logger(__name__)
SUPERVISOR_ANSWER_TIMEOUT_S = 20.0
REQUEST_TIMEOUT_S = 10.0  # an HTTP thread waits this long for the SIP loop, at most


@dataclass(eq=False)
class SupervisorLeg:
    """The supervisor's phone on one call."""

    supervisor: str  # the user name (login) of the supervisor or team lead
    sip_user: str
    since: datetime
    machine: SupervisorLegMachine = field(default_factory=SupervisorLegMachine)
    sip: InviteSession | None = None
    media: MediaSession | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "supervisor": self.supervisor,
            "mode": self.machine.mode.value,
            "state": self.machine.state.value,
            "since": self.since.isoformat(),
        }


class CallSupervision:
    def __init__(self, controller: CallController) -> None:
        self.c = controller
        self.answer_timeout_s = SUPERVISOR_ANSWER_TIMEOUT_S
        self.request_timeout_s = REQUEST_TIMEOUT_S

    # ---- from HTTP handler threads -------------------------------------------------
    def supervise(self, call_id: str, *, supervisor: str, mode: str) -> dict[str, Any]:
        """Start or change supervision; returns at once (no wait for the phone to answer).

        The answer's ``state`` is ``ringing`` while the supervisor's phone rings (the
        outcome follows on the bus as ``CallSupervisionChanged``: ``active``, or ``ended``
        with reason ``not_answered``) or ``active`` for a mode change. Raises ``Conflict``
        with a stable code: ``call_not_on_sip``, ``call_not_connected``,
        ``call_already_supervised``, ``supervisor_phone_not_registered``, ``call_ended``.
        """
        try:
            m = Mode(mode)
        except ValueError:
            raise ValidationError(
                "mode is listen, whisper or barge (监听/耳语/强插)",
                field="mode",
                code="invalid_mode",
            ) from None
        return self._on_loop(call_id, self.request(call_id, supervisor, m))

    def stop(self, call_id: str, *, supervisor: str) -> dict[str, Any]:
        """Hang up ``supervisor``'s leg (BYE, or CANCEL while it rings); the caller and the
        agent stay bridged. Raises ``Conflict``: ``call_not_supervised``,
        ``call_supervised_by_other``."""
        return self._on_loop(call_id, self.end(call_id, supervisor))

    def _on_loop(self, call_id: str, coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
        loop = self.c._loop
        if loop is None or loop.is_closed():
            coro.close()
            raise _not_on_sip(call_id)
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return fut.result(self.request_timeout_s)
        except concurrent.futures.TimeoutError:
            # not cancelled: a request half-way (INVITE sent) must still reach its end, and
            # its outcome is pushed like any other
            raise UpstreamError(
                "SIP 服务无响应 / the SIP service did not answer in time", code="sip_unavailable"
            ) from None

    # ---- on the SIP event loop -----------------------------------------------------
    async def request(self, call_id: str, supervisor: str, mode: Mode) -> dict[str, Any]:
        leg = self.c.by_call.get(call_id)
        if leg is None or leg.media is None or leg.ended.is_set():
            raise _not_on_sip(call_id)
        if not leg.connected or leg.agent_media is None:
            raise Conflict(
                "通话尚未接通坐席，无法监听 / the call is not connected to an agent yet",
                code="call_not_connected",
            )
        current: SupervisorLeg | None = leg.supervision
        if current is not None:
            if current.supervisor != supervisor:
                raise _supervised_by(current)
            self._run(leg, current, current.machine.handle(LegEvent.REQUEST, mode))
            if current.machine.state is LegState.ACTIVE:  # while ringing: applied on answer
                await self._note(leg, current, "mode")
                self._publish(leg, current)
            return current.as_dict()
        get_user = self.c.staff_sip_user
        user = await asyncio.to_thread(get_user, supervisor) if get_user is not None else None
        if leg.supervision is not None:  # another request won the race meanwhile
            return await self.request(call_id, supervisor, mode)
        sl = SupervisorLeg(supervisor, user or supervisor, self.c.clock.now())
        sl.machine.handle(LegEvent.REQUEST, mode)  # → ringing; the INVITE follows
        leg.supervision = sl
        rung = await self.c.ring_phone(
            user, leg, {"x-lendline-supervise": mode.value}, tag=f"sv-{supervisor}"
        )
        if rung is None:
            if leg.supervision is sl:
                leg.supervision = None
            raise Conflict(
                f"您的软电话未注册（SIP 用户 {sl.sip_user}）/ your softphone is not registered "
                f"to lendline (SIP user {sl.sip_user}): register it, then try again",
                code="supervisor_phone_not_registered",
            )
        sl.sip, sl.media = rung
        if sl.machine.ended:  # stopped, or the call ended, before the INVITE went out
            self._run(leg, sl, (Action.HANG_UP, Action.RELEASE), reason="supervisor stopped")
            if leg.ended.is_set():
                raise Conflict("通话已结束 / the call has ended", code="call_ended")
            return sl.as_dict()  # stopped meanwhile: nothing to wait for
        self.c.by_supervisor_leg[sl.sip.id] = leg
        self._publish(leg, sl)  # ringing
        self.c._spawn(self._wait_answer(leg, sl))
        return sl.as_dict()

    async def _wait_answer(self, leg: CallLeg, sl: SupervisorLeg) -> None:
        """The ringing phone's outcome, announced on the bus (the HTTP request is gone)."""
        assert sl.sip is not None
        answered = await self.c.wait_answer(sl.sip, self.answer_timeout_s)
        if sl.machine.ended:  # stopped, or the call ended, while the phone rang
            return
        if not answered:
            self._run(leg, sl, sl.machine.handle(LegEvent.FAILED), reason="not answered")
            self._publish(leg, sl, "not_answered")
            await self._note(leg, sl, "not_answered")
            log.info("supervisor_not_answered", call_id=leg.call_id, supervisor=sl.supervisor)
            return
        self._run(leg, sl, sl.machine.handle(LegEvent.ANSWERED))
        self._publish(leg, sl)
        await self._note(leg, sl, "joined")
        log.info(
            "supervision_started",
            call_id=leg.call_id,
            supervisor=sl.supervisor,
            mode=sl.machine.mode.value,
        )

    async def end(self, call_id: str, supervisor: str) -> dict[str, Any]:
        """The supervisor stops from the browser (see ``stop``)."""
        leg = self.c.by_call.get(call_id)
        sl: SupervisorLeg | None = leg.supervision if leg is not None else None
        if leg is None or sl is None or sl.machine.ended:
            raise Conflict(
                "此通话当前无人监听 / nobody is supervising this call",
                code="call_not_supervised",
            )
        if sl.supervisor != supervisor:
            raise Conflict(
                f"{sl.supervisor} 正在监听此通话，只有本人可以结束 / {sl.supervisor} is "
                "supervising this call: only they can stop it",
                code="call_supervised_by_other",
            )
        was_active = sl.machine.state is LegState.ACTIVE
        self._run(leg, sl, sl.machine.handle(LegEvent.STOP), reason="supervisor stopped")
        self._publish(leg, sl, "stopped")
        if was_active:
            await self._note(leg, sl, "left", reason="stopped")
        log.info("supervision_stopped", call_id=call_id, supervisor=supervisor)
        return sl.as_dict()

    def agent_changed(self, leg: CallLeg) -> None:
        """The call got a (new) agent leg: mix it in for the supervisor already there."""
        sl: SupervisorLeg | None = leg.supervision
        if sl is not None and sl.machine.state is LegState.ACTIVE:
            self._apply_mix(leg, sl)
            self._publish(leg, sl)  # the marker follows the call to the new agent

    def supervisor_hung_up(self, leg: CallLeg, call: InviteSession) -> None:
        sl: SupervisorLeg | None = leg.supervision
        if sl is None or sl.sip is not call or sl.machine.state is not LegState.ACTIVE:
            return  # still ringing: ``_wait_answer`` sees the failed answer
        self._run(leg, sl, sl.machine.handle(LegEvent.SUPERVISOR_HUNG_UP))
        self._publish(leg, sl, "supervisor_hung_up")
        self.c._spawn(self._note(leg, sl, "left", reason="supervisor_hung_up"))

    async def call_ended(self, leg: CallLeg) -> None:
        sl: SupervisorLeg | None = leg.supervision
        if sl is None or sl.machine.ended:
            return
        was_active = sl.machine.state is LegState.ACTIVE
        self._run(leg, sl, sl.machine.handle(LegEvent.CALL_ENDED))
        self._publish(leg, sl, "call_ended")
        if was_active:
            await self._note(leg, sl, "left", reason="call_ended")

    # ---- carrying out the table's actions ------------------------------------------
    def _run(
        self,
        leg: CallLeg,
        sl: SupervisorLeg,
        actions: tuple[Action, ...],
        *,
        reason: str = "call ended",
    ) -> None:
        for action in actions:
            if action is Action.CONNECT and sl.media is not None and sl.sip is not None:
                self.c._connect(sl.media, sl.sip)
            elif action is Action.APPLY_MIX:
                self._apply_mix(leg, sl)
            elif action is Action.REMOVE_MIX:
                for media in (leg.media, leg.agent_media):
                    if media is not None:
                        media.mix_in(())
            elif action is Action.HANG_UP:
                if sl.sip is not None and sl.sip.state is not SessionState.TERMINATED:
                    self.c.hangup(sl.sip, reason)
            elif action is Action.RELEASE:
                self._release(leg, sl)

    def _apply_mix(self, leg: CallLeg, sl: SupervisorLeg) -> None:
        parties = {
            Party.CALLER: leg.media,
            Party.AGENT: leg.agent_media,
            Party.SUPERVISOR: sl.media,
        }
        for party, sources in extra_sources(sl.machine.mode).items():
            media = parties[party]
            if media is None or media.closed:
                continue
            heard = tuple(s for p in sorted(sources) if (s := parties[p]) is not None)
            media.mix_in(heard)

    def _release(self, leg: CallLeg, sl: SupervisorLeg) -> None:
        if leg.supervision is sl:
            leg.supervision = None
        if sl.sip is not None:
            self.c.by_supervisor_leg.pop(sl.sip.id, None)
            self.c.outcomes.pop(sl.sip.id, None)
        if sl.media is not None:
            self.c._spawn(sl.media.close())

    def _publish(self, leg: CallLeg, sl: SupervisorLeg, reason: str = "") -> None:
        """Announce the leg's state (the wallboard marker, the agent's notice, the outcome
        of a ringing phone) as a domain event."""
        bus = self.c.bus
        if bus is None or not leg.call_id:
            return
        bus.publish(
            CallSupervisionChanged(
                at_s=self.c.clock.monotonic(),
                call_id=leg.call_id,
                agent_id=leg.agent_id,
                supervisor=sl.supervisor,
                mode=sl.machine.mode.value,
                state=sl.machine.state.value,
                reason=reason,
            )
        )

    async def _note(self, leg: CallLeg, sl: SupervisorLeg, event: str, *, reason: str = "") -> None:
        """Write the supervision step on the call record (who, mode, when, why it ended)."""
        center = self.c.center
        if center is None or not leg.call_id:
            return
        entry = {
            "supervisor": sl.supervisor,
            "mode": sl.machine.mode.value,
            "event": event,
            "at": self.c.clock.now().isoformat(),
        }
        if reason:
            entry["reason"] = reason
        try:
            await asyncio.to_thread(center.attach_media, leg.call_id, supervision=entry)
        except LendlineError as exc:
            log.info("supervision_note_refused", call_id=leg.call_id, detail=exc.detail)


def _supervised_by(sl: SupervisorLeg) -> Conflict:
    return Conflict(
        f"{sl.supervisor} 正在监听此通话 / {sl.supervisor} is already supervising this call",
        code="call_already_supervised",
    )


def _not_on_sip(call_id: str) -> Conflict:
    return Conflict(
        f"通话 {call_id} 不在 SIP 线路上，无法监听 / call {call_id} has no live SIP media leg",
        code="call_not_on_sip",
    )
