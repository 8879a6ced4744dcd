"""The agent's leg (B2BUA): routing reserved an agent → INVITE its registered phone.

Answered → ``CallCenter.accept`` and the media legs are bridged; no answer, a failure or
no registered phone → ``CallCenter.decline`` (routing puts the call back at the head of its
queue). ``ReservationTimedOut`` cancels a phone still ringing. A REFER from the agent's
phone is a blind transfer to the queue named in Refer-To.
"""

from __future__ import annotations

import asyncio

import structlog

from lendline.domain.events import AgentReserved, DomainEvent, ReservationTimedOut
from lendline.errors import LendlineError, RemoteProtocolError
from lendline.telephony.call_leg import DEFAULT_QUEUE, CallLeg, ControllerBase, _number
from lendline.telephony.media import MediaSession
from lendline.telephony.sip.session import InviteSession, SessionState
from lendline.telephony.sip.uri import parse_uri

log = structlog.get_logger(__name__)


class AgentLegs(ControllerBase):
    def _on_bus(self, ev: DomainEvent) -> None:
        """Bus handler; may run in an HTTP worker thread, so hop onto the SIP loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._on_routing_event, ev)

    def _on_routing_event(self, ev: DomainEvent) -> None:
        if isinstance(ev, AgentReserved):
            leg = self.by_call.get(ev.call_id)
            if leg is None or not leg.confirmed.is_set():
                self._early[ev.call_id] = ev  # offered once the caller's leg is up
            elif not leg.ended.is_set():
                self._spawn(self._offer(leg, ev))
        elif isinstance(ev, ReservationTimedOut):
            early = self._early.get(ev.call_id)
            if early is not None and early.agent_id == ev.agent_id:
                del self._early[ev.call_id]
            leg = self.by_call.get(ev.call_id)
            if leg is not None and leg.agent_sip is not None and not leg.connected:
                self._ua_hangup(leg.agent_sip, "reservation timed out")

    async def ring_agent(
        self, agent_id: str, leg: CallLeg, headers: dict[str, str]
    ) -> tuple[InviteSession, MediaSession] | None:
        """INVITE ``agent_id``'s registered phone with a fresh media leg; None if none."""
        user = await asyncio.to_thread(self.agent_sip_user, agent_id)
        return await self.ring_phone(user, leg, headers, tag=agent_id)

    async def ring_phone(
        self, user: str | None, leg: CallLeg, headers: dict[str, str], *, tag: str
    ) -> tuple[InviteSession, MediaSession] | None:
        """INVITE SIP user ``user``'s registered phone (an agent's, a supervisor's) with a
        fresh media leg named ``<call id>-<tag>``; None when it has no registration."""
        assert self.server is not None
        bindings = (
            self.registrar.lookup(user, self.clock.monotonic()) if (self.registrar and user) else []
        )
        if not bindings:
            log.info("phone_not_registered", user=user, tag=tag)
            return None
        binding = bindings[-1]
        media = await MediaSession.open(
            self.scheduler,
            host=self.media.bind_host,
            port_min=self.media.port_min,
            port_max=self.media.port_max,
            call_id=f"{leg.call_id}-{tag}",
        )
        out = self.server.ua.invite(
            binding.contact,
            binding.source,
            transport=binding.transport,
            rtp_host=self.media.advertised_host,
            rtp_port=media.local_port,
            from_user=_number(leg.sip.caller) or "lendline",
            headers={"x-lendline-call-id": leg.call_id, **headers},
        )
        self._pump()
        self.outcomes[out.id] = asyncio.get_running_loop().create_future()
        return out, media

    async def wait_answer(self, out: InviteSession, timeout_s: float) -> bool:
        fut = self.outcomes.get(out.id)
        if fut is None:
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout_s)
        except TimeoutError:
            return False

    async def _offer(self, leg: CallLeg, ev: AgentReserved) -> None:
        """INVITE the reserved agent's phone; accept/decline the reservation by the outcome."""
        assert self.server is not None and self.center is not None
        if self.transfers.takes_over(leg, ev):
            return
        rung = await self.ring_agent(ev.agent_id, leg, {"x-lendline-queue": ev.queue})
        if rung is None:
            await asyncio.to_thread(self._decline, leg.call_id, ev.agent_id)
            return
        out, agent_media = rung
        leg.agent_id, leg.agent_sip, leg.agent_media = ev.agent_id, out, agent_media
        self.by_agent_leg[out.id] = leg
        answered = await self.wait_answer(out, ev.timeout_s + 1)
        if not answered or leg.ended.is_set():
            if out.state is not SessionState.TERMINATED:
                self._ua_hangup(out, "not answered")
            self.by_agent_leg.pop(out.id, None)
            self.outcomes.pop(out.id, None)
            leg.agent_sip, leg.agent_media = None, None
            await agent_media.close()
            if not leg.ended.is_set():
                await asyncio.to_thread(self._decline, leg.call_id, ev.agent_id)
            return
        try:
            await asyncio.to_thread(self.center.accept, leg.call_id, ev.agent_id)
        except LendlineError as exc:  # the reservation lapsed meanwhile
            log.info("accept_refused", call_id=leg.call_id, detail=exc.detail)
            self._ua_hangup(out, "reservation lapsed")
            return
        self.connect_agent(leg, out, agent_media)

    def connect_agent(self, leg: CallLeg, out: InviteSession, agent_media: MediaSession) -> None:
        """Bridge the caller to an answered agent leg (stops hold music and the IVR)."""
        leg.connected = True
        if leg.hold_task is not None:
            leg.hold_task.cancel()
        if leg.ivr_task is not None and not leg.ivr_task.done():
            leg.ivr_task.cancel()
            if leg.media is not None:
                leg.media.stop_playback()
        self._connect(agent_media, out)
        if leg.media is not None:
            leg.media.stop_hold()
            leg.media.bridge(agent_media)
        self.supervision.agent_changed(leg)  # a supervisor on the call hears the new agent

    def _decline(self, call_id: str, agent_id: str) -> None:
        assert self.center is not None
        try:
            self.center.decline(call_id, agent_id)
        except LendlineError as exc:
            log.info("decline_refused", call_id=call_id, detail=exc.detail)

    async def _blind_transfer(self, leg: CallLeg, target: str) -> None:
        """The agent REFERs the caller to ``sip:<queue>@…``: back to that queue."""
        assert self.center is not None
        try:
            queue = parse_uri(target).user or DEFAULT_QUEUE
        except RemoteProtocolError:
            queue = DEFAULT_QUEUE
        if leg.media is not None and leg.agent_media is not None:
            leg.media.unbridge()
        try:
            await asyncio.to_thread(self.center.transfer, leg.call_id, queue=queue)
        except LendlineError as exc:
            log.info("transfer_refused", call_id=leg.call_id, detail=exc.detail)
            return
        agent = leg.agent_sip
        leg.connected, leg.agent_sip = False, None
        if agent is not None and self.server is not None:
            self.server.ua.notify_transfer(agent, 200, "OK")
            self._ua_hangup(agent, "transferred")
        if leg.agent_media is not None:
            await leg.agent_media.close()
            leg.agent_media = None
        if leg.media is not None:
            self.start_hold(leg)
