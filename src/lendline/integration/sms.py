"""The SMS gateway: ``send(phone_e164, text) -> message_id``.

``OutboxSmsGateway`` (the embedded default) writes each message as a JSON file under
``data_dir/sms_outbox`` — a working stand-in for the operator's gateway that tests and the
demo read back. ``HttpSmsGateway`` posts JSON to the lender's gateway in production.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from lendline.errors import UpstreamError


class SmsGateway(Protocol):
    def send(self, phone_e164: str, text: str) -> str: ...


class OutboxSmsGateway:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, phone_e164: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        body = {
            "message_id": message_id,
            "to": phone_e164,
            "text": text,
            "at": datetime.now(UTC).isoformat(),
        }
        tmp = self.folder / f".{message_id}.tmp"
        tmp.write_text(json.dumps(body, ensure_ascii=False))
        os.replace(tmp, self.folder / f"{message_id}.json")
        return message_id

    def messages(self, phone_e164: str | None = None) -> list[dict[str, str]]:
        """Messages in the outbox, oldest first (for tests and the demo)."""
        out = []
        for p in self.folder.glob("*.json"):
            d = json.loads(p.read_text())
            if phone_e164 is None or d["to"] == phone_e164:
                out.append(d)
        return sorted(out, key=lambda d: d["at"])


class HttpSmsGateway:
    """POST ``{"to", "text"}`` to ``url``; expects ``{"message_id": ...}`` back."""

    def __init__(self, url: str, *, timeout_s: float = 3.0, client: httpx.Client | None = None):
        self.url = url
        self._client = client or httpx.Client(timeout=timeout_s)

    def send(self, phone_e164: str, text: str) -> str:
        try:
            r = self._client.post(self.url, json={"to": phone_e164, "text": text})
            r.raise_for_status()
            return str(r.json()["message_id"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise UpstreamError(f"SMS gateway failed: {type(exc).__name__}") from exc
