"""Built-in actions on the real store: SMS outbox link, lockout across conversations, chat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.demo.seed import REFERENCE_NOW
from lendline.domain.customer import Customer
from lendline.domain.events import BotHandoff, ComplianceAlert, DomainEvent
from lendline.settings import Settings
from lendline.store.dialogue import add_demo_customers
from tests.unit.dialogue.fakes import KeywordUnderstanding


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[Container, list[Customer], ManualClock]]:
    clock = ManualClock(start=REFERENCE_NOW)
    c = build_container(settings, clock=clock)
    c.services["dialogue_engine"].nlu = KeywordUnderstanding()
    yield c, add_demo_customers(c.db, c.field_cipher, 30, seed=11), clock
    c.db.dispose()


def test_upload_link_goes_to_the_outbox_and_verifies(world: Any) -> None:
    c, people, _ = world
    p = people[0]
    svc = c.services["dialogue"]
    st = svc.start(phone=p.phone_e164)
    assert st.customer_id == p.customer_id
    svc.message(st.conversation_id, text="需要什么材料")
    svc.message(st.conversation_id, text="个人")
    r = svc.message(st.conversation_id, text="好的")
    assert r.action == "send_upload_link" and p.phone_e164[-4:] in r.text
    msgs = c.services["sms"].messages(p.phone_e164)
    assert len(msgs) == 1 and "https://lendline.local/upload/" in msgs[0]["text"]
    token = msgs[0]["text"].split("/upload/")[1].split()[0]
    backend = c.services["dialogue_backend"]
    assert backend.check_upload_token(token) == {"c": p.customer_id, "v": st.conversation_id}
    # change one whole character of the signature (not the last one, whose low
    # bits base64 ignores), so the tampered token always differs in meaning
    i = len(token) - 5
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    with pytest.raises(Exception, match="Signature"):
        backend.check_upload_token(tampered)


def test_lockout_survives_a_new_conversation_and_expires(world: Any) -> None:
    c, people, clock = world
    p = people[1]
    svc = c.services["dialogue"]
    events: list[DomainEvent] = []
    c.bus.subscribe(events.append)
    for _ in range(3):
        st = svc.start()
        svc.message(st.conversation_id, text="查审批进度")
        svc.message(st.conversation_id, text=p.id_number)
        r = svc.message(st.conversation_id, text="尾号0000")
    assert r.handoff is not None and r.handoff.reason == "verification_locked"
    assert any(isinstance(e, BotHandoff) for e in events)
    # a fourth conversation with the right answer is still refused while locked
    st = svc.start()
    svc.message(st.conversation_id, text="查审批进度")
    svc.message(st.conversation_id, text=p.id_number)
    r = svc.message(st.conversation_id, text=f"尾号{p.phone_e164[-4:]}")
    assert r.handoff is not None and r.handoff.reason == "verification_locked"
    clock.advance(31 * 60)
    st = svc.start()
    svc.message(st.conversation_id, text="查审批进度")
    svc.message(st.conversation_id, text=p.id_number)
    r = svc.message(st.conversation_id, text=f"尾号{p.phone_e164[-4:]}")
    assert r.handoff is None and "验证成功" in r.text


def test_stop_calling_reaches_the_compliance_list(world: Any) -> None:
    c, people, _ = world
    p = people[2]
    events: list[DomainEvent] = []
    c.bus.subscribe(events.append)
    svc = c.services["dialogue"]
    st = svc.start(customer_id=p.customer_id)
    svc.message(st.conversation_id, text="以后别再打电话了")
    r = svc.message(st.conversation_id, text="是的")
    assert r.action == "stop_calling"
    assert c.services["contact_policy"].on_do_not_call(p.customer_id)
    assert any(isinstance(e, ComplianceAlert) and e.subject_id == p.customer_id for e in events)


def test_bot_chat_in_the_terminal(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from lendline.cli import app

    for k, v in {
        "LENDLINE_DATABASE_URL": settings.effective_database_url,
        "LENDLINE_MASTER_KEY": settings.master_key,
        "LENDLINE_SIP_ENABLED": "false",
    }.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(app, ["bot", "chat"], input="转人工\n")
    assert r.exit_code == 0, r.stdout
    assert "有什么可以帮您" in r.stdout and "handed off" in r.stdout
    r = CliRunner().invoke(app, ["bot", "chat", "--customer", "C404"])
    assert r.exit_code == 2 and "customer_not_found" in r.stdout
