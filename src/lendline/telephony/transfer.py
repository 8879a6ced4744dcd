"""Warm (attended) transfer: the agent consults a colleague or supervisor, then joins them.

``consult(call_id, agent_id)`` puts the caller on music, rings the other phone and bridges
the two agents; ``complete(call_id)`` asks routing to transfer the call to that agent
(``CallCenter.transfer(agent_id=…)``: the call keeps its record and context, the first
agent goes to wrap-up); when routing reserves the consulted agent, the existing consult
leg takes over — no new INVITE — and the caller is bridged to it. ``cancel`` (or the
consulted agent hanging up) returns the caller to the first agent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from lendline.domain.events import AgentReserved
from lendline.errors import Conflict, LendlineError, NotFound
from lendline.telephony.media import MediaSession
from lendline.telephony.media.hold import MusicOnHold
from lendline.telephony.sip.session import InviteSession, SessionState

if TYPE_CHECKING:
    from lendline.telephony.controller import CallController, CallLeg

log = structlog.get_logger(__name__)
CONSULT_ANSWER_TIMEOUT_S = 20.0


@dataclass(eq=False)
class Consultation:
    agent_id: str
    sip: InviteSession
    media: MediaSession
    answered: bool = False
    completing: bool = False


class WarmTransfers:
    def __init__(self, controller: CallController) -> None:
        self.c = controller

    def _leg(self, call_id: str) -> CallLeg:
        leg = self.c.by_call.get(call_id)
        if leg is None:
            raise NotFound(f"no live SIP call {call_id!r}", code="call_not_found")
        return leg

    async def consult(self, call_id: str, agent_id: str) -> Consultation:
        leg = self._leg(call_id)
        if not leg.connected or leg.agent_media is None or leg.media is None:
            raise Conflict(
                "only a call connected to an agent can consult", code="call_not_connected"
            )
        if leg.consult is not None:
            raise Conflict("a consultation is already in progress", code="consult_in_progress")
        if agent_id == leg.agent_id:
            raise Conflict("an agent cannot consult itself", code="consult_self")
        leg.media.unbridge()
        leg.media.start_hold(MusicOnHold())
        rung = await self.c.ring_agent(agent_id, leg, {"x-lendline-consult": leg.agent_id or ""})
        if rung is None:
            self._resume(leg)
            raise Conflict(f"{agent_id}'s phone is not registered", code="agent_not_registered")
        out, media = rung
        cons = Consultation(agent_id, out, media)
        leg.consult = cons
        self.c.by_consult_leg[out.id] = leg
        if not await self.c.wait_answer(out, CONSULT_ANSWER_TIMEOUT_S):
            await self._drop(leg, cons)
            raise Conflict(f"{agent_id} did not answer", code="consult_not_answered")
        cons.answered = True
        self.c._connect(media, out)
        leg.agent_media.bridge(media)  # the two agents talk; the caller hears music
        return cons

    async def complete(self, call_id: str) -> None:
        leg = self._leg(call_id)
        cons = leg.consult
        if cons is None or not cons.answered:
            raise Conflict("no answered consultation to complete", code="no_consultation")
        center = self.c.center
        if center is None:
            raise Conflict("no call centre configured", code="no_call_center")
        cons.completing = True
        try:
            await asyncio.to_thread(center.transfer, call_id, agent_id=cons.agent_id)
        except LendlineError:
            cons.completing = False
            raise

    async def cancel(self, call_id: str) -> None:
        leg = self._leg(call_id)
        cons = leg.consult
        if cons is None:
            raise Conflict("no consultation in progress", code="no_consultation")
        await self._drop(leg, cons)

    def takes_over(self, leg: CallLeg, ev: AgentReserved) -> bool:
        """True when ``ev`` reserves the agent we are consulting: reuse that leg."""
        cons = leg.consult
        if cons is None or not cons.completing or cons.agent_id != ev.agent_id:
            return False
        self.c._spawn(self._take_over(leg, cons, ev))
        return True

    async def _take_over(self, leg: CallLeg, cons: Consultation, ev: AgentReserved) -> None:
        center = self.c.center
        assert center is not None
        try:
            await asyncio.to_thread(center.accept, leg.call_id, ev.agent_id)
        except LendlineError as exc:
            log.info("warm_transfer_accept_refused", call_id=leg.call_id, detail=exc.detail)
            return
        old_sip, old_media = leg.agent_sip, leg.agent_media
        if old_sip is not None:
            self.c.by_agent_leg.pop(old_sip.id, None)
            self.c.outcomes.pop(old_sip.id, None)
            if old_sip.state is not SessionState.TERMINATED:
                self.c.hangup(old_sip, "transferred")
        if old_media is not None:
            await old_media.close()
        self.c.by_consult_leg.pop(cons.sip.id, None)
        leg.agent_id, leg.agent_sip, leg.agent_media = cons.agent_id, cons.sip, cons.media
        leg.consult = None
        self.c.by_agent_leg[cons.sip.id] = leg
        cons.media.unbridge()
        self.c.connect_agent(leg, cons.sip, cons.media)

    async def consult_ended(self, leg: CallLeg) -> None:
        """The consulted phone hung up (or never answered): back to the first agent."""
        cons = leg.consult
        if cons is not None:
            await self._drop(leg, cons)

    async def _drop(self, leg: CallLeg, cons: Consultation) -> None:
        leg.consult = None
        self.c.by_consult_leg.pop(cons.sip.id, None)
        self.c.outcomes.pop(cons.sip.id, None)
        if cons.sip.state is not SessionState.TERMINATED:
            self.c.hangup(cons.sip, "consultation over")
        await cons.media.close()
        self._resume(leg)

    @staticmethod
    def _resume(leg: CallLeg) -> None:
        if leg.media is None or leg.media.closed:
            return
        leg.media.stop_hold()
        if leg.connected and leg.agent_media is not None and not leg.agent_media.closed:
            leg.media.bridge(leg.agent_media)
