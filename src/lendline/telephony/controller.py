"""The call controller: SIP call legs ⇄ CallCenter ⇄ media (a B2BUA for the agent leg).

An INVITE opens a media leg, asks ``CallCenter.inbound_call`` (caller number → customer →
routing decision), answers, records the caller's leg, then either runs the IVR menu (a
``bot`` decision; "0" hands the call to a queue) or waits in the queue with music and
announcements. When routing reserves an agent (``AgentReserved`` on the bus) the agent's
registered phone is INVITEd; its answer is reported (``accept``) and the two media legs
are bridged; a failure or no answer is reported (``decline``) and the call waits on. A BYE
on either leg ends both; the call record gets the recording id and RTCP figures.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from lendline.calls.api import CallCenter
from lendline.clock import Clock
from lendline.domain.call import CallState
from lendline.domain.events import AgentReserved, DomainEvent, ReservationTimedOut
from lendline.domain.recording import RecordingMeta, RecordingSink
from lendline.errors import LendlineError, RemoteProtocolError
from lendline.telephony.ivr_runner import PromptCache, StatusLookup, run_ivr
from lendline.telephony.media import MediaScheduler, MediaSession, PcmSource
from lendline.telephony.media.announce import format_wait_announcement
from lendline.telephony.media.hold import hold_with_announcements
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
from lendline.telephony.sip.registrar import Registrar
from lendline.telephony.sip.session import InviteSession, SessionState
from lendline.telephony.sip.uri import parse_uri
from lendline.telephony.transfer import WarmTransfers

if TYPE_CHECKING:
    from lendline.bus import InProcessBus
    from lendline.telephony.server import SipServer

log = structlog.get_logger(__name__)
DEFAULT_QUEUE = "general"


@dataclass(eq=False)
class CallLeg:
    """One inbound call: the caller's SIP/media leg and, once offered, the agent's."""

    sip: InviteSession
    started_at: datetime
    call_id: str = ""
    media: MediaSession | None = None
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    agent_id: str | None = None
    agent_sip: InviteSession | None = None
    agent_media: MediaSession | None = None
    consult: Any = None  # a warm transfer in progress (telephony.transfer.Consultation)
    hold_task: asyncio.Task[None] | None = None
    ivr_task: asyncio.Task[Any] | None = None
    recording_id: str | None = None
    connected: bool = False
    ivr_keys: tuple[str, ...] = ()


@dataclass
class MediaConfig:
    bind_host: str = "127.0.0.1"
    advertised_host: str = "127.0.0.1"
    port_min: int = 0
    port_max: int = 0
    lang: str = "zh"
    announce_every_s: float = 30.0


class CallController:
    def __init__(
        self,
        *,
        call_center: CallCenter | None,
        bus: InProcessBus | None,
        registrar: Registrar | None,
        scheduler: MediaScheduler,
        recordings: RecordingSink | None,
        prompts: PromptCache,
        status_lookup: StatusLookup,
        agent_sip_user: Any,
        clock: Clock,
        media: MediaConfig | None = None,
    ) -> None:
        self.center = call_center
        self.bus = bus
        self.registrar = registrar
        self.scheduler = scheduler
        self.recordings = recordings
        self.prompts = prompts
        self.status_lookup = status_lookup
        self.agent_sip_user = agent_sip_user  # agent_id -> SIP user (callable)
        self.clock = clock
        self.media = media or MediaConfig()
        self.server: SipServer | None = None
        self.legs: dict[str, CallLeg] = {}  # by caller InviteSession id
        self.by_call: dict[str, CallLeg] = {}  # by CallCenter call id
        self.by_agent_leg: dict[str, CallLeg] = {}  # by agent InviteSession id
        self.by_consult_leg: dict[str, CallLeg] = {}  # warm transfer: the consulted phone
        self.outcomes: dict[str, asyncio.Future[bool]] = {}  # our INVITEs: answered or not
        self.tasks: set[asyncio.Task[Any]] = set()
        self.finished: list[CallLeg] = []  # recent finished calls (tests, diagnostics)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: dict[str, AgentReserved] = {}  # reservations made before we knew the call
        self.transfers = WarmTransfers(self)
        if bus is not None:
            bus.subscribe(self._on_bus, AgentReserved)
            bus.subscribe(self._on_bus, ReservationTimedOut)

    def attach(self, server: SipServer) -> None:
        self.server = server

    # ------------------------------------------------------------------ SIP events
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
                self._spawn(self._finish(leg, ev.by))
            elif isinstance(ev, CallUpdated) and leg.media is not None and call.audio:
                self._connect(leg.media, call)
            return
        outcome = self.outcomes.get(call.id)
        answered_or_not = isinstance(ev, CallAnswered | CallFailed | CallEnded)
        if answered_or_not and outcome is not None and not outcome.done():
            outcome.set_result(isinstance(ev, CallAnswered))
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

    # ------------------------------------------------------------------ the caller's leg
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
        decision_kind, known = "bot", False
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
                decision_kind, known = d.target_kind, c.customer_id is not None
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
        if decision_kind == "bot" or not known:
            # the bot, or (unknown caller, already queued) self-service while waiting
            leg.ivr_task = asyncio.create_task(
                run_ivr(leg.media, self.prompts, self.status_lookup, lang=self.media.lang)
            )
            try:
                out = await leg.ivr_task
            except asyncio.CancelledError:
                return  # an agent answered meanwhile
            leg.ivr_keys = out.keys
            if out.kind != "transfer" or leg.ended.is_set() or leg.connected:
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
                    context={"ivr_choices": list(out.choices), "ivr_reason": out.reason},
                )
        if not leg.connected and not leg.ended.is_set():
            leg.hold_task = asyncio.create_task(
                hold_with_announcements(
                    leg.media,
                    lambda: self._announcement(leg),
                    interval_s=self.media.announce_every_s,
                    first_after_s=1.0,
                )
            )

    async def _announcement(self, leg: CallLeg) -> PcmSource | None:
        if self.center is None or leg.connected:
            return None
        try:
            position, ewt = self.center.position(leg.call_id)
        except LendlineError:
            return None
        text = format_wait_announcement(position, ewt, self.media.lang)
        return PcmSource(await self.prompts.audio(text, self.media.lang))

    def _start_recording(self, leg: CallLeg) -> None:
        if self.recordings is None or leg.media is None:
            return
        meta = RecordingMeta(
            call_id=leg.call_id or leg.sip.call_id,
            started_at=leg.started_at,
            caller_masked=_mask(_number(leg.sip.caller)),
        )
        try:
            leg.recording_id = leg.media.start_recording(self.recordings, meta)
        except LendlineError as exc:
            log.warning("recording_failed", detail=exc.detail)

    async def _finish(self, leg: CallLeg, by: str) -> None:
        self._early.pop(leg.call_id, None)
        for task in (leg.hold_task, leg.ivr_task):
            if task is not None:
                task.cancel()
        if leg.agent_sip is not None and leg.agent_sip.state is not SessionState.TERMINATED:
            self._ua_hangup(leg.agent_sip, "caller hung up")
        stats = None
        if leg.media is not None:
            info = leg.media.stop_recording()
            if info is not None:
                leg.recording_id = info.recording_id
            final = await leg.media.close()
            stats = final.as_dict() if final is not None else None
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
                self.center.abandon(leg.call_id)
        except LendlineError as exc:
            log.info("call_end_report_refused", call_id=leg.call_id, detail=exc.detail)
        with contextlib.suppress(LendlineError):
            self.center.attach_media(
                leg.call_id,
                recording_id=leg.recording_id,
                quality={"caller_rtp": stats} if stats else None,
            )

    # ------------------------------------------------------------------ the agent's leg
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
        assert self.server is not None
        user = await asyncio.to_thread(self.agent_sip_user, agent_id)
        bindings = (
            self.registrar.lookup(user, self.clock.monotonic()) if (self.registrar and user) else []
        )
        if not bindings:
            log.info("agent_phone_not_registered", agent_id=agent_id)
            return None
        binding = bindings[-1]
        media = await MediaSession.open(
            self.scheduler,
            host=self.media.bind_host,
            port_min=self.media.port_min,
            port_max=self.media.port_max,
            call_id=f"{leg.call_id}-{agent_id}",
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
            leg.hold_task = asyncio.create_task(
                hold_with_announcements(
                    leg.media,
                    lambda: self._announcement(leg),
                    interval_s=self.media.announce_every_s,
                    first_after_s=1.0,
                )
            )

    # ------------------------------------------------------------------ helpers
    def _connect(self, media: MediaSession, call: InviteSession) -> None:
        audio = call.audio
        if audio is None or media.closed:
            return
        media.connect(
            audio.remote_host,
            audio.remote_port,
            payload_type=audio.payload_type,
            dtmf_payload_type=audio.dtmf_payload_type,
        )

    def _reject(self, call: InviteSession, status: int, warning: str) -> None:
        assert self.server is not None
        if call.can("reject"):
            self.server.ua.reject(call, status, warning=warning)
            self._pump()
        self.legs.pop(call.id, None)

    def _ua_hangup(self, call: InviteSession, reason: str) -> None:
        assert self.server is not None
        self.server.ua.hangup(call, reason)
        self._pump()

    def pump(self) -> None:
        self._pump()

    def hangup(self, call: InviteSession, reason: str) -> None:
        self._ua_hangup(call, reason)

    def _pump(self) -> None:
        if self.server is not None:
            self.server.pump()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call_task_failed", error=repr(task.exception()))

    async def close(self) -> None:
        for leg in list(self.legs.values()):
            self._ua_hangup(leg.sip, "shutting down")
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _number(uri: str) -> str:
    try:
        return parse_uri(uri).user or ""
    except RemoteProtocolError:
        return ""


def _mask(number: str) -> str:
    return number[:3] + "****" + number[-4:] if len(number) >= 8 else number
