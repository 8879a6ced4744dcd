"""Outbound webhooks against a real local receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lendline.app import build_container
from lendline.domain.events import AgentStateChanged, CallArrived, CallEnded
from lendline.integration.webhook_store import WebhookStore
from lendline.integration.webhooks import (
    CallDispositionRecorded,
    WebhookDispatcher,
    WebhookPolicy,
    verify,
)
from tests.conftest import make_settings
from tests.helpers import eventually


class Receiver:
    """The lender's CRM endpoint: records requests; answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.got: list[tuple[dict[str, str], bytes]] = []
        me = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                me.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(me.status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/lendline"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def test_signed_delivery_retry_dead_letter_and_replay(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    c = build_container(make_settings(tmp_path, database_url))
    store: WebhookStore = c.services["webhook_store"]
    dispatcher: WebhookDispatcher = c.services["webhooks"]
    dispatcher.policy = WebhookPolicy(timeout_s=1.0, max_attempts=3, backoff_s=0.05)
    _, secret = store.add_endpoint(receiver.url, events=["*"], secret=None, now=c.clock.now())
    await dispatcher.start()
    try:
        c.bus.publish(CallArrived(call_id="call-1", caller="+8613812345678", customer_id="C1"))
        c.bus.publish(AgentStateChanged(agent_id="a1", old="available", new="break"))  # not sent
        c.bus.publish(
            CallDispositionRecorded(
                call_id="call-1", agent_id="a1", code="promise_to_pay", note="周五前还 13812345678"
            )
        )
        await eventually(lambda: len(receiver.got) == 2)
        got = {h["x-lendline-event"]: json.loads(b) for h, b in receiver.got}
        assert got["call.disposition"]["data"]["code"] == "promise_to_pay"
        assert got["call.disposition"]["data"]["note"] == "周五前还 138****5678"
        receiver.got.sort(key=lambda hb: hb[0]["x-lendline-event"] != "call.arrived")
        headers, body = receiver.got[0]
        assert headers["x-lendline-event"] == "call.arrived"
        assert verify(secret, headers["x-lendline-signature"], body, now_s=int(time.time()))
        payload = json.loads(body)
        assert payload["data"]["call_id"] == "call-1"
        assert payload["data"]["caller"] == "+86138****5678"  # masked on the way out
        await eventually(lambda: len(store.deliveries(status="delivered")) == 2)

        receiver.status = 503
        c.bus.publish(CallEnded(call_id="call-1", reason="answered", agent_id="a1"))
        await eventually(lambda: store.deliveries(status="dead") != [])
        dead = store.deliveries(status="dead")[0]
        assert (
            dead["attempts"] == 3 and dead["last_status"] == 503 and dead["event"] == "call.ended"
        )
        assert len(receiver.got) == 5

        receiver.status = 200
        store.replay(dead["delivery_id"], c.clock.now())
        dispatcher.replayed()
        await eventually(lambda: len(store.deliveries(status="delivered")) == 3)
        assert not store.deliveries(status="dead")
        resent = [h for h, _ in receiver.got if h["x-lendline-delivery"] == dead["delivery_id"]]
        assert len(resent) == 4  # same idempotency key on every attempt
    finally:
        await dispatcher.stop()
        c.db.dispose()


async def test_pending_deliveries_survive_a_restart(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = make_settings(tmp_path, database_url)
    c = build_container(settings)
    store: WebhookStore = c.services["webhook_store"]
    store.add_endpoint(receiver.url, events=["call.ended"], secret="x" * 20, now=c.clock.now())
    receiver.status = 500
    d: WebhookDispatcher = c.services["webhooks"]
    d.policy = WebhookPolicy(timeout_s=1.0, max_attempts=10, backoff_s=30.0)
    await d.start()
    c.bus.publish(CallEnded(call_id="call-9", reason="abandoned"))
    await eventually(lambda: len(receiver.got) == 1)
    await d.stop()
    c.db.dispose()
    # a new process: the delivery is still pending and goes out once it is due
    c2 = build_container(settings)
    store2: WebhookStore = c2.services["webhook_store"]
    assert [x["status"] for x in store2.deliveries()] == ["pending"]
    receiver.status = 200
    store2.replay(store2.deliveries()[0]["delivery_id"], c2.clock.now())
    d2: WebhookDispatcher = c2.services["webhooks"]
    await d2.start()
    await eventually(lambda: store2.deliveries(status="delivered") != [])
    await d2.stop()
    c2.db.dispose()
