"""Wiring of the dialogue feature into the container.

Registers ``services["dialogue"]`` (``ConversationService``) and
``services["dialogue_engine"]`` (the I/O-free ``DialogueEngine``, for the IVR). The NLU
model loads on first use so that start-up stays fast.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendline.dialogue.actions import BUILTIN_ACTIONS
from lendline.dialogue.engine import DialogueEngine
from lendline.dialogue.flow import FLOWS_DIR, load_flows
from lendline.dialogue.service import ConversationService
from lendline.dialogue.understanding import Understanding, Understood, default_understanding
from lendline.store.dialogue import ConversationRepository
from lendline.store.dialogue_backend import StoreBackend

if TYPE_CHECKING:
    from lendline.app import Container


class LazyUnderstanding:
    """Loads the configured NLU model the first time it is needed."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._inner: Understanding | None = None

    def understand(self, text: str, *, today: date, lang: str) -> Understood:
        if self._inner is None:
            self._inner = default_understanding(self.spec)
        return self._inner.understand(text, today=today, lang=lang)


class _FolderOutbox:
    """Used only when no SMS gateway is registered: one JSON file per message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, phone_e164: str, text: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        mid = uuid.uuid4().hex
        body = {
            "message_id": mid,
            "to": phone_e164,
            "text": text,
            "at": datetime.now(UTC).isoformat(),
        }
        tmp = self.folder / f".{mid}.tmp"
        tmp.write_text(json.dumps(body, ensure_ascii=False))
        os.replace(tmp, self.folder / f"{mid}.json")
        return mid


class _ServiceSms:
    """The SMS gateway registered by compliance (``services["sms"]``), else the outbox."""

    def __init__(self, services: dict[str, Any], folder: Path) -> None:
        self.services = services
        self.fallback = _FolderOutbox(folder)

    def send(self, phone_e164: str, text: str) -> str:
        gw = self.services.get("sms")
        if gw is None:
            try:
                from lendline.integration.sms import OutboxSmsGateway  # type: ignore[import-not-found,unused-ignore]

                gw = OutboxSmsGateway(self.fallback.folder)
            except ImportError:
                gw = self.fallback
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
    engine = DialogueEngine(flows, understanding, backend, threshold=s.nlu_confidence_threshold)
    repo = ConversationRepository(container.db, container.field_cipher)
    container.services["dialogue_backend"] = backend
    container.services["dialogue_engine"] = engine
    container.services["dialogue"] = ConversationService(
        engine,
        repo,
        backend,
        container.clock,
        container.bus,
        timezone=s.timezone,
        services=container.services,
    )


def _merged(paths: list[Path]) -> Any:
    """Shipped flows overridden, file by file, by those in ``settings.flows_dir``."""
    files: dict[str, Path] = {}
    for p in paths:
        for f in sorted(p.glob("*.yaml")):
            files[f.name] = f
    return load_flows(list(files.values()), actions=BUILTIN_ACTIONS)
