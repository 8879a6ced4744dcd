"""Wiring of the telephony feature: SIP server, registrar, call controller, media scheduler.

Services: ``sip_server``, ``sip_registrar``, ``sip_credentials``, ``call_controller``,
``media_scheduler``, ``media_control``, ``media_supervision`` (listen-in / whisper / barge).
The SIP server starts with the container when ``sip_enabled``. ``seed_demo`` gives
agent01…agent30 SIP credentials (user = agent id) and the staff who may supervise calls
(lead01, supervisor01) a softphone account (user = their user name); the password is the
demo password, or a generated one shown once.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from lendline.compliance.rbac import allowed
from lendline.store.models import AgentRow
from lendline.store.models_auth import UserRow
from lendline.store.models_telephony import StaffSipAccountRow

if TYPE_CHECKING:
    from lendline.app import Container

log = structlog.get_logger(__name__)


def wire(container: Container) -> None:
    """Build the telephony services and register them on ``container.services``."""
    from lendline.errors import LendlineError
    from lendline.speech.asr import build_asr
    from lendline.speech.tts import build_tts
    from lendline.telephony.application_status import ApplicationStatus
    from lendline.telephony.controller import CallController, MediaConfig
    from lendline.telephony.credentials import AgentCredentials
    from lendline.telephony.media import MediaScheduler, WavRecordingSink
    from lendline.telephony.prompts import PromptCache
    from lendline.telephony.server import SipServer
    from lendline.telephony.sip.digest import DigestChallenger
    from lendline.telephony.sip.registrar import Registrar

    settings = container.settings
    clock = container.clock
    credentials = AgentCredentials(container.db, settings.sip_domain, clock)
    algorithms = tuple(a.strip().upper() for a in settings.sip_digest_algorithms.split(","))
    registrar = Registrar(credentials, DigestChallenger(settings.sip_domain, algorithms=algorithms))
    scheduler = MediaScheduler(clock=clock)
    tts = None
    if settings.tts_engine:  # espeak-ng | tone; '' = a beep per sentence
        try:
            tts = build_tts(settings.tts_engine, settings.data_dir / "tts-cache")
        except LendlineError as exc:  # espeak-ng missing: prompts become beeps, calls go on
            log.warning("tts_unavailable", error=exc.detail)
    asr = None
    try:
        asr = build_asr(
            settings.asr_engine, model_path=settings.asr_model_path, funasr_url=settings.funasr_url
        )
    except LendlineError as exc:  # no model: the menu is DTMF only
        log.warning("asr_unavailable", error=exc.detail)

    def sip_user_of(agent_id: str) -> str | None:
        with container.db.session() as s:
            return s.scalar(select(AgentRow.sip_user).where(AgentRow.agent_id == agent_id))

    controller = CallController(
        call_center=container.services.get("call_center"),
        bus=container.bus,
        registrar=registrar,
        scheduler=scheduler,
        recordings=None,
        prompts=PromptCache(tts),
        status_lookup=ApplicationStatus(container.db, container.field_cipher),
        agent_sip_user=sip_user_of,
        clock=clock,
        media=MediaConfig(
            bind_host=settings.sip_host,
            advertised_host=settings.advertised_host,
            port_min=settings.rtp_port_min,
            port_max=settings.rtp_port_max,
            lang="zh" if settings.language.startswith("zh") else "en",
        ),
        asr=asr,
        language=settings.language,
        staff_sip_user=credentials.staff_sip_user,
    )
    server = SipServer(
        controller,
        host=settings.sip_host,
        port=settings.sip_port,
        advertised_host=settings.advertised_host,
        registrar=registrar,
        clock=clock,
    )
    from lendline.telephony.media_control import SipMediaControl

    container.services.update(
        media_control=SipMediaControl(controller),
        sip_server=server,
        sip_registrar=registrar,
        sip_credentials=credentials,
        call_controller=controller,
        media_scheduler=scheduler,
    )
    if settings.sip_enabled:  # without SIP there is no call media to listen to (route: 502)
        container.services["media_supervision"] = controller.supervision

    async def start() -> None:
        # late-bound: the compliance vault and the call centre may be wired after us
        controller.center = container.services.get("call_center", controller.center)
        controller.dialogue = container.services.get("dialogue", controller.dialogue)
        controller.recordings = container.services.get("recording_sink") or WavRecordingSink(
            settings.effective_recordings_dir
        )
        controller.bind_loop(asyncio.get_running_loop())  # bus events may come from threads
        await server.start()

    async def stop() -> None:
        await controller.close()
        await server.stop()

    if settings.sip_enabled:
        container.on_start(start)
        container.on_stop(stop)


def seed_demo(container: Container) -> str:
    """SIP credentials for the demo agents that have none yet."""
    from lendline.telephony.credentials import AgentCredentials

    credentials = container.services.get("sip_credentials") or AgentCredentials(
        container.db, container.settings.sip_domain, container.clock
    )
    with container.db.session() as s:
        missing = s.scalars(
            select(AgentRow.agent_id)
            .where(AgentRow.sip_ha1_md5.is_(None))
            .order_by(AgentRow.agent_id)
        ).all()
        staff = [
            u.username
            for u in s.scalars(select(UserRow).order_by(UserRow.username)).all()
            if allowed(u.role, "supervise.listen") and s.get(StaffSipAccountRow, u.username) is None
        ]
    if not missing and not staff:
        return ""
    # the same password as the demo users (the generated one is handed over by the seed)
    generated = container.services.get("demo_generated_password")
    password = container.settings.demo_password or generated or secrets.token_urlsafe(9)
    for agent_id in missing:
        credentials.set_password(agent_id, password)
    for username in staff:  # supervisors' softphones, for listen-in / whisper / barge
        credentials.set_staff_password(username, password)
    if container.settings.demo_password or generated:
        shown = "the demo users' password"
    else:
        shown = f"{password} (shown once)"
    domain = container.settings.sip_domain
    accounts = ([f"{missing[0]}…{missing[-1]}"] if missing else []) + staff
    return f"SIP accounts {', '.join(accounts)} @ {domain}, password {shown}"
