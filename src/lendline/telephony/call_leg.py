"""What the call controller's parts share: the call leg, media settings, and helpers.

``ControllerBase`` holds the controller's state (legs by SIP id and by call id, agent,
consult and supervisor legs, the outcome of our INVITEs) and the small helpers every part
uses; the behaviour lives in ``controller`` (the caller's leg), ``agent_legs`` (the B2BUA
leg to the agent's phone), ``queue_wait`` (music, announcements, callback), ``transfer``
and ``supervision`` (listen-in / whisper / barge).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import structlog

from lendline.calls.api import CallCenter
from lendline.clock import Clock
from lendline.dialogue.service import ConversationService
from lendline.domain.events import AgentReserved, DomainEvent, ReservationTimedOut
from lendline.domain.recording import RecordingSink
from lendline.errors import RemoteProtocolError
from lendline.speech.asr import AsrEngine
from lendline.telephony.media import MediaScheduler, MediaSession
from lendline.telephony.prompts import PromptCache, StatusLookup
from lendline.telephony.sip.registrar import Registrar
from lendline.telephony.sip.session import InviteSession
from lendline.telephony.sip.uri import parse_uri
from lendline.telephony.supervision import CallSupervision
from lendline.telephony.transfer import WarmTransfers

if TYPE_CHECKING:
    from lendline.bus import InProcessBus
    from lendline.telephony.controller import CallController
    from lendline.telephony.server import SipServer

log = structlog.get_logger(__name__)
DEFAULT_QUEUE = "general"
CALLBACK_OFFER = {"zh": "。如需稍后回电，请按1。", "en": " To be called back instead, press 1."}
CALLBACK_OK = {
    "zh": "好的，我们会尽快给您回电，再见。",
    "en": "We will call you back soon. Goodbye.",
}


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
    supervision: Any = None  # a supervisor on the call (telephony.supervision.SupervisorLeg)
    hold_task: asyncio.Task[None] | None = None
    ivr_task: asyncio.Task[Any] | None = None
    recording_id: str | None = None
    connected: bool = False
    ivr_choices: tuple[str, ...] = ()  # menu keys chosen, or the voicebot's states
    customer_id: str | None = None
    callback_listener: bool = False
    callback: bool = False  # the caller asked to be called back
    agent_on_hold: bool = False  # the agent's phone put the caller on hold


@dataclass
class MediaConfig:
    bind_host: str = "127.0.0.1"
    advertised_host: str = "127.0.0.1"
    port_min: int = 0
    port_max: int = 0
    lang: str = "zh"
    announce_every_s: float = 30.0
    callback_offer_ewt_s: float = 120.0  # offer "press 1 for a call back" above this wait


class ControllerBase:
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
        asr: AsrEngine | None = None,
        dialogue: ConversationService | None = None,
        language: str = "zh-CN",
        staff_sip_user: Any = None,
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
        self.asr = asr
        self.dialogue = dialogue  # the voicebot's ConversationService (bot decisions)
        self.language = language
        self.staff_sip_user = staff_sip_user  # username -> a supervisor's SIP user (callable)
        self.server: SipServer | None = None
        self.legs: dict[str, CallLeg] = {}  # by caller InviteSession id
        self.by_call: dict[str, CallLeg] = {}  # by CallCenter call id
        self.by_agent_leg: dict[str, CallLeg] = {}  # by agent InviteSession id
        self.by_consult_leg: dict[str, CallLeg] = {}  # warm transfer: the consulted phone
        self.by_supervisor_leg: dict[str, CallLeg] = {}  # listen-in / whisper / barge phones
        self.outcomes: dict[str, asyncio.Future[bool]] = {}  # our INVITEs: answered or not
        self.tasks: set[asyncio.Task[Any]] = set()
        self.finishing: set[asyncio.Task[Any]] = set()  # ending calls: let them end on stop
        self.closing = False  # stopping: calls we hang up now end ``interrupted``
        self.finished: list[CallLeg] = []  # recent finished calls (tests, diagnostics)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: dict[str, AgentReserved] = {}  # reservations made before we knew the call
        self.transfers = WarmTransfers(cast("CallController", self))
        self.supervision = CallSupervision(cast("CallController", self))
        if bus is not None:
            bus.subscribe(self._on_bus, AgentReserved)
            bus.subscribe(self._on_bus, ReservationTimedOut)

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The SIP event loop, where bus events from other threads are handed over."""
        self._loop = loop

    def call_soon(self, fn: Callable[[], None]) -> bool:
        """Run ``fn`` on the SIP event loop, from any thread; False when SIP is not running."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        loop.call_soon_threadsafe(fn)
        return True

    def attach(self, server: SipServer) -> None:
        self.server = server

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

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call_task_failed", error=repr(task.exception()))

    # implemented by the parts (see the module docstring)
    def _on_bus(self, ev: DomainEvent) -> None:
        raise NotImplementedError

    def start_hold(self, leg: CallLeg) -> None:
        raise NotImplementedError


def _number(uri: str) -> str:
    try:
        return parse_uri(uri).user or ""
    except RemoteProtocolError:
        return ""
