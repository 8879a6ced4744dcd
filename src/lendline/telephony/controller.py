"""The call controller: SIP call legs ⇄ CallCenter ⇄ media (a B2BUA for the agent leg).

An INVITE opens a media leg, asks ``CallCenter.inbound_call`` (caller number → customer →
routing decision), answers, records the caller's leg, then either runs the IVR menu (a
``bot`` decision; "0" hands the call to a queue) or waits in the queue with music and
announcements. When routing reserves an agent (``AgentReserved`` on the bus) the agent's
registered phone is INVITEd; its answer is reported (``accept``) and the two media legs
are bridged; a failure or no answer is reported (``decline``) and the call waits on. A BYE
on either leg ends both (and a supervisor's leg, ``supervision``); the call record gets the
recording id and RTCP figures.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from lendline.compliance.masking import mask_phone
from lendline.domain.call import CallState
from lendline.domain.recording import RecordingMeta
from lendline.errors import LendlineError, RemoteProtocolError
from lendline.telephony.agent_legs import AgentLegs
from lendline.telephony.call_leg import (
    DEFAULT_QUEUE,
    CallLeg,
    MediaConfig,
    _number,
)
from lendline.telephony.media import MediaSession, PcmSource
from lendline.telephony.media.hold import MusicOnHold
from lendline.telephony.media.ivr_runner import run_ivr
from lendline.telephony.queue_wait import QueueWait
from lendline.telephony.sip.events import (
    CallAnswered,
    CallConfirmed,
    CallEnded,
    CallFailed,
    CallUpdated,
    Event,
    IncomingCall,
    TransferRequested,
)
from lendline.telephony.sip.session import SessionState
from lendline.telephony.voicebot import run_voicebot

log = structlog.get_logger(__name__)
SHUTDOWN_FINISH_S = 10.0  # at most this long for live calls to end properly on a clean stop
__all__ = ["CallController", "CallLeg", "MediaConfig"]


class CallController(AgentLegs, QueueWait):
    """The ``CallHandler`` of the SIP server in production (see the module docstring)."""

    def on_event(self, ev: Event) -> None:
        self._loop = self._loop or asyncio.get_running_loop()
        if isinstance(ev, IncomingCall):
            leg = CallLeg(ev.call, self.clock.now())
            self.legs[ev.call.id] = leg
            self._spawn(self._inbound(leg))
            return
        call = getattr(ev, "call", None)
        if call is None:
            return
        caller_leg = self.legs.get(call.id)
        if caller_leg is not None:  # the caller's leg
            leg = caller_leg
            if isinstance(ev, CallConfirmed):
                leg.confirmed.set()
            elif isinstance(ev, CallEnded):
                leg.ended.set()
                self.legs.pop(call.id, None)
                ending = self._spawn(self._finish(leg, ev.by))
                self.finishing.add(ending)
                ending.add_done_callback(self.finishing.discard)
            elif isinstance(ev, CallUpdated) and leg.media is not None and call.audio:
                self._connect(leg.media, call)
            return
        outcome = self.outcomes.get(call.id)
        answered_or_not = isinstance(ev, CallAnswered | CallFailed | CallEnded)
        if answered_or_not and outcome is not None and not outcome.done():
            outcome.set_result(isinstance(ev, CallAnswered))
        supervised = self.by_supervisor_leg.get(call.id)
        if supervised is not None:
            if isinstance(ev, CallEnded):
                self.supervision.supervisor_hung_up(supervised, call)
            elif isinstance(ev, CallUpdated) and supervised.supervision is not None:
                media = supervised.supervision.media
                if media is not None and call.audio:
                    self._connect(media, call)
            return
        consult_leg = self.by_consult_leg.get(call.id)
        if consult_leg is not None and isinstance(ev, CallEnded):
            self._spawn(self.transfers.consult_ended(consult_leg))
            return
        agent_leg = self.by_agent_leg.get(call.id)
        if agent_leg is None:
            return
        leg = agent_leg
        if isinstance(ev, CallEnded):
            self.by_agent_leg.pop(call.id, None)
            self.outcomes.pop(call.id, None)
            if leg.connected and not leg.ended.is_set():
                self._ua_hangup(leg.sip, "agent hung up")
        elif isinstance(ev, TransferRequested):
            self._spawn(self._blind_transfer(leg, ev.target))
        elif isinstance(ev, CallUpdated) and leg.agent_media is not None:
            self._agent_hold(leg, call, ev.on_hold)

    def _agent_hold(self, leg: CallLeg, call: Any, on_hold: bool) -> None:
        """The agent's phone held (re-INVITE sendonly) or resumed: music for the caller."""
        assert leg.agent_media is not None
        self._connect(leg.agent_media, call)
        if leg.media is None or not leg.connected or leg.consult is not None:
            return
        self.hold_caller(leg, on_hold)

    @staticmethod
    def hold_caller(leg: CallLeg, on_hold: bool) -> None:
        """Music for the caller while the agent holds; the bridge back on resume."""
        assert leg.media is not None and leg.agent_media is not None
        if on_hold:
            leg.media.unbridge()
            leg.media.start_hold(MusicOnHold())
        else:
            leg.media.stop_hold()
            leg.media.bridge(leg.agent_media)
        leg.agent_on_hold = on_hold

    async def _inbound(self, leg: CallLeg) -> None:
        assert self.server is not None
        ua, call = self.server.ua, leg.sip
        try:
            leg.media = await MediaSession.open(
                self.scheduler,
                host=self.media.bind_host,
                port_min=self.media.port_min,
                port_max=self.media.port_max,
                call_id=call.call_id,
            )
        except LendlineError as exc:
            log.warning("rtp_unavailable", detail=exc.detail)
            self._reject(call, 503, "no RTP port free")
            return
        try:
            ua.negotiate(call, self.media.advertised_host, leg.media.local_port)
        except RemoteProtocolError as exc:
            self._reject(call, exc.status, exc.detail)
            await leg.media.close()
            return
        decision_kind, target, known = "bot", "ivr", False
        if self.center is not None:
            try:
                c = await asyncio.to_thread(
                    self.center.inbound_call,
                    caller=_number(call.caller),
                    dialed=call.dialed,
                    channel="sip",
                )
                leg.call_id = c.call_id
                self.by_call[c.call_id] = leg
                d = self.center.decision(c.call_id)
                decision_kind, target = d.target_kind, d.target
                known = c.customer_id is not None
                leg.customer_id = c.customer_id
                log.info("call_routed", call_id=c.call_id, kind=d.target_kind, target=d.target)
            except LendlineError as exc:
                log.warning("call_center_refused", detail=exc.detail)
                self._reject(call, 503, exc.detail)
                await leg.media.close()
                return
        if leg.ended.is_set():  # CANCELled while we were routing
            return
        ua.answer(call)
        self._pump()
        self._connect(leg.media, call)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(leg.confirmed.wait(), 32)
        if not leg.confirmed.is_set():
            return
        self._start_recording(leg)
        early = self._early.pop(leg.call_id, None)
        if early is not None:
            self._spawn(self._offer(leg, early))
        if decision_kind == "bot" and target != "ivr" and self.dialogue is not None:
            if not await self._voicebot(leg, target):
                return
        elif decision_kind == "bot" or not known:
            # the IVR menu: a bot decision, or an unknown caller (already queued) meanwhile
            leg.ivr_task = asyncio.create_task(
                run_ivr(
                    leg.media,
                    self.prompts.engine,
                    self.status_lookup,
                    lang=self.media.lang,
                    asr=self.asr,
                )
            )
            try:
                out = await leg.ivr_task
            except asyncio.CancelledError:
                return  # an agent answered meanwhile
            leg.ivr_choices = tuple(out.choices)
            if out.transfer is None or leg.ended.is_set() or leg.connected:
                if out.transfer is None and not leg.ended.is_set() and not leg.connected:
                    self._ua_hangup(call, "menu finished")
                return
            if self.center is None:
                await leg.media.play(
                    PcmSource(await self.prompts.audio("抱歉，暂时无人接听。", "zh"))
                )
                self._ua_hangup(call, "no call center")
                return
            if decision_kind == "bot":
                await asyncio.to_thread(
                    self.center.enqueue,
                    leg.call_id,
                    DEFAULT_QUEUE,
                    context={
                        "ivr_choices": list(out.choices),
                        "ivr_reason": out.transfer.reason,
                    },
                )
        if not leg.connected and not leg.ended.is_set():
            self.start_hold(leg)

    async def _voicebot(self, leg: CallLeg, flow: str) -> bool:
        """Run the dialogue flow on the call; True when it handed the call to a queue."""
        assert self.dialogue is not None and leg.media is not None
        known_flows = getattr(getattr(self.dialogue, "engine", None), "flows", {})
        flow_name = flow if flow in known_flows and flow != "main" else None  # None: greet
        leg.ivr_task = asyncio.create_task(
            run_voicebot(
                leg.media,
                self.prompts.engine,
                self.dialogue,
                call_id=leg.call_id,
                customer_id=leg.customer_id,
                flow=flow_name,
                language=self.language,
                asr=self.asr,
            )
        )
        try:
            out = await leg.ivr_task
        except asyncio.CancelledError:
            return False  # an agent answered meanwhile
        except LendlineError as exc:  # the dialogue refused: the caller waits for a person
            log.warning("voicebot_failed", call_id=leg.call_id, detail=exc.detail)
            return True
        leg.ivr_choices = tuple(out.states)
        if out.hung_up and not leg.ended.is_set():
            self._ua_hangup(leg.sip, "voicebot finished")
        return out.transfer_queue is not None and not leg.ended.is_set()

    def _start_recording(self, leg: CallLeg) -> None:
        if self.recordings is None or leg.media is None:
            return
        meta = RecordingMeta(
            call_id=leg.call_id or leg.sip.call_id,
            started_at=leg.started_at,
            caller_masked=mask_phone(_number(leg.sip.caller)),
        )
        try:
            leg.recording_id = leg.media.start_recording(self.recordings, meta)
        except LendlineError as exc:
            log.warning("recording_failed", detail=exc.detail)

    async def _finish(self, leg: CallLeg, by: str) -> None:
        self._early.pop(leg.call_id, None)
        if leg.hold_task is not None:
            leg.hold_task.cancel()
        if leg.agent_sip is not None and leg.agent_sip.state is not SessionState.TERMINATED:
            self._ua_hangup(leg.agent_sip, "caller hung up")
        await self.supervision.call_ended(leg)
        stats = None
        if leg.media is not None:
            info = leg.media.stop_recording()
            if info is not None:
                leg.recording_id = info.recording_id
            final = await leg.media.close()
            stats = final.as_dict() if final is not None else None
        if leg.ivr_task is not None:  # the menu / voicebot ends on the closed leg by itself
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, LendlineError):
                await asyncio.wait_for(asyncio.shield(leg.ivr_task), 2.0)
            leg.ivr_task.cancel()
            await asyncio.sleep(0)  # let the caller's task record what the menu/bot did
        if leg.agent_media is not None:
            await leg.agent_media.close()
        if leg.consult is not None:
            await self.transfers.consult_ended(leg)
        if self.center is not None and leg.call_id:
            await asyncio.to_thread(self._report_end, leg, stats)
            self.by_call.pop(leg.call_id, None)
        self.finished.append(leg)
        del self.finished[:-200]

    def _report_end(self, leg: CallLeg, stats: dict[str, Any] | None) -> None:
        assert self.center is not None
        try:
            call = self.center.get_call(leg.call_id)
            if call.state is CallState.CONNECTED:
                self.center.hangup(leg.call_id)
            elif call.state is not CallState.ENDED:
                self.center.abandon(leg.call_id, interrupted=self.closing)
        except LendlineError as exc:
            log.info("call_end_report_refused", call_id=leg.call_id, detail=exc.detail)
        with contextlib.suppress(LendlineError):
            self.center.attach_media(
                leg.call_id,
                recording_id=leg.recording_id,
                quality={"caller_rtp": stats} if stats else None,
            )

    async def close(self) -> None:
        """Stop: hang up every live call and let each end as a hang-up does (its call
        record ended, its recording sealed) before what is left is cancelled."""
        self.closing = True
        for leg in list(self.legs.values()):
            self._ua_hangup(leg.sip, "shutting down")
        if self.finishing:
            await asyncio.wait(set(self.finishing), timeout=SHUTDOWN_FINISH_S)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
