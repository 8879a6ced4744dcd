"""Wiring of the dialogue feature into the container.

Registers ``services["dialogue"]`` (``ConversationService``; calls run it through
``lendline.telephony.voicebot``) and ``services["dialogue_engine"]`` (the I/O-free
``DialogueEngine``). The NLU model loads in a background thread when the container starts
(``settings.nlu_warm_at_start``), so start-up stays fast and the first caller does not
wait for it; without that it loads on first use.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from lendline.dialogue.actions import BUILTIN_ACTIONS
from lendline.dialogue.engine import DialogueEngine
from lendline.dialogue.flow import FLOWS_DIR, load_flows
from lendline.dialogue.service import ConversationService
from lendline.dialogue.understanding import Understanding, Understood, default_understanding
from lendline.integration.sms import OutboxSmsGateway
from lendline.store.dialogue import ConversationRepository
from lendline.store.dialogue_backend import StoreBackend

if TYPE_CHECKING:
    from lendline.app import Container

log = structlog.get_logger(__name__)


class LazyUnderstanding:
    """Loads the configured NLU model the first time it is needed, or ahead with ``warm``."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._inner: Understanding | None = None
        self._lock = threading.Lock()
        self.warm_thread: threading.Thread | None = None

    def _loaded(self) -> Understanding:
        with self._lock:  # a turn during the warm-up waits for it instead of loading twice
            if self._inner is None:
                self._inner = default_understanding(self.spec)
            return self._inner

    def warm(self) -> threading.Thread:
        """Load (or train and cache) the model on a daemon thread; returns the thread."""

        def run() -> None:
            try:
                self._loaded()
            except Exception:  # the first turn reports it, with the caller's context
                log.exception("nlu_warm_up_failed", model=self.spec)
                return
            if gc.get_freeze_count():
                # serve froze the start-up heap before the model finished loading: the
                # model is as long-lived as the rest, so it joins it
                gc.freeze()

        thread = threading.Thread(target=run, name="nlu-warm-up", daemon=True)
        thread.start()
        self.warm_thread = thread
        return thread

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    def understand(self, text: str, *, today: date, lang: str) -> Understood:
        return self._loaded().understand(text, today=today, lang=lang)


class _ServiceSms:
    """The SMS gateway registered by compliance (``services["sms"]``), else the outbox folder."""

    def __init__(self, services: dict[str, Any], folder: Path) -> None:
        self.services = services
        self.folder = folder

    def send(self, phone_e164: str, text: str) -> str:
        gw = self.services.get("sms")
        if gw is None:
            gw = self.services["sms"] = OutboxSmsGateway(self.folder)
        return str(gw.send(phone_e164, text))


def wire(container: Container) -> None:
    """Build the dialogue services and register them on ``container.services``."""
    s = container.settings
    paths = [FLOWS_DIR] + ([s.flows_dir] if s.flows_dir else [])
    flows = load_flows(paths, actions=BUILTIN_ACTIONS) if not s.flows_dir else _merged(paths)
    secret = hmac.new(container.master_key, b"upload-links", hashlib.sha256).hexdigest()
    backend = StoreBackend(
        container.db,
        container.field_cipher,
        container.clock,
        container.bus,
        _ServiceSms(container.services, s.data_dir / "sms_outbox"),
        link_secret=secret,
        link_base=s.upload_link_base,
        services=container.services,
    )
    understanding = container.services.get("nlu_understanding") or LazyUnderstanding(s.nlu_model)
    if isinstance(understanding, LazyUnderstanding) and s.nlu_warm_at_start:

        async def warm() -> None:
            understanding.warm()

        container.on_start(warm)
    engine = DialogueEngine(flows, understanding, backend, threshold=s.nlu_confidence_threshold)
    repo = ConversationRepository(container.db, container.field_cipher)
    container.services["dialogue_backend"] = backend
    container.services["dialogue_engine"] = engine
    service = ConversationService(
        engine,
        repo,
        backend,
        container.clock,
        container.bus,
        timezone=s.timezone,
        services=container.services,
    )
    container.services["dialogue"] = service


def _merged(paths: list[Path]) -> Any:
    """Shipped flows overridden, file by file, by those in ``settings.flows_dir``."""
    files: dict[str, Path] = {}
    for p in paths:
        for f in sorted(p.glob("*.yaml")):
            files[f.name] = f
    return load_flows(list(files.values()), actions=BUILTIN_ACTIONS)
