"""The text channel over HTTP on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.demo.seed import REFERENCE_NOW
from lendline.domain.customer import Customer
from lendline.settings import Settings
from lendline.store.dialogue import add_demo_customers
from lendline.store.models import CustomerRow
from lendline.store.models_dialogue import PromiseToPayRow, TicketRow
from lendline.web.app import create_app
from tests.helpers import create_user, login
from tests.unit.dialogue.fakes import KeywordUnderstanding


def _seed(c: Container, n: int = 40) -> list[Customer]:
    return add_demo_customers(c.db, c.field_cipher, n, seed=7)


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[TestClient, Container, list[Customer]]]:
    c = build_container(settings, clock=ManualClock(start=REFERENCE_NOW))
    c.services["dialogue_engine"].nlu = KeywordUnderstanding()
    people = _seed(c)
    create_user(c, "sup", "supervisor")
    create_user(c, "auditor", "compliance_officer")
    with TestClient(create_app(c)) as tc:
        tc.headers.update(login(tc, "sup"))
        yield tc, c, people


def _open(tc: TestClient, **body: Any) -> dict[str, Any]:
    r = tc.post("/api/v1/conversations", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _say(tc: TestClient, cid: str, **body: Any) -> dict[str, Any]:
    r = tc.post(f"/api/v1/conversations/{cid}/messages", json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_greeting_product_enquiry_and_transcript(world: Any) -> None:
    tc, _c, _ = world
    opened = _open(tc, channel="web", language="zh-CN")
    assert "有什么可以帮您" in opened["greeting"] and opened["state"] == "main.greet"
    cid = opened["conversation_id"]
    r = _say(tc, cid, text="我想贷款")
    assert set(r) >= {"reply", "intent", "confidence", "slots", "state", "action", "handoff"}
    assert r["intent"] == "apply_loan" and "个人贷款还是企业贷款" in r["reply"]
    r = _say(tc, cid, text="企业的，30万")
    assert r["action"] == "match_products" and "企业经营贷" in r["reply"]
    assert r["slots"] == {"loan_type": "business", "amount": 300000}
    t = tc.get(f"/api/v1/conversations/{cid}").json()
    assert [x["seq"] for x in t["turns"]] == [0, 1, 2] and t["turns"][1]["user"] == "我想贷款"


def test_id_numbers_never_leave_unmasked(world: Any) -> None:
    tc, c, people = world
    p = people[1]
    cid = _open(tc)["conversation_id"]
    _say(tc, cid, text="查询申请进度")
    r = _say(tc, cid, text=f"我的身份证是{p.id_number}")
    assert p.id_number not in json.dumps(r, ensure_ascii=False)
    assert r["slots"]["id_number"].startswith(p.id_number[:6]) and "*" in r["slots"]["id_number"]
    body = tc.get(f"/api/v1/conversations/{cid}").text
    assert p.id_number not in body
    with c.db.engine.connect() as conn:  # the sealed context does not hold it in clear
        raw = conn.exec_driver_sql("SELECT context_cipher FROM conversations").scalar_one()
        assert p.id_number.encode() not in bytes(raw)


def test_collection_promise_recorded(world: Any) -> None:
    tc, c, people = world
    p = next(x for x in people if x.overdue_days > 0)
    r = _open(tc, customer_id=p.customer_id, flow="collection_reminder")
    cid = r["conversation_id"]
    assert r["state"] == "verify_identity.ask_id"
    _say(tc, cid, text=p.id_number)
    assert p.birth_date is not None
    r = _say(tc, cid, text=p.birth_date.strftime("%Y年%m月%d日"))
    assert "已逾期" in r["reply"] and r["state"] == "collection_reminder.ask_date"
    r = _say(tc, cid, text="明天我会还")
    assert r["action"] == "record_promise"
    with c.db.session() as s:
        row = s.query(PromiseToPayRow).one()
        assert row.customer_id == p.customer_id and row.kind == "promise"
        assert row.promised_date.isoformat() == "2026-11-28" and row.amount_fen > 0


def test_complaint_ticket_and_stop_calling(world: Any) -> None:
    tc, c, people = world
    p = people[0]
    cid = _open(tc, phone=p.phone_e164)["conversation_id"]
    _say(tc, cid, text="我要投诉")
    _say(tc, cid, dtmf="1")
    r = _say(tc, cid, text="利息比合同上写的高")
    assert r["action"] == "open_ticket" and "T20261127" in r["reply"]
    _say(tc, cid, text="以后别再打电话了")
    r = _say(tc, cid, text="是的")
    assert r["action"] == "stop_calling"
    with c.db.session() as s:
        assert s.get(CustomerRow, p.customer_id).do_not_call is True
        assert s.query(TicketRow).one().category == "fees"


def test_handoff_reaches_the_call_center_with_context(world: Any) -> None:
    tc, c, _ = world
    cid = _open(tc)["conversation_id"]
    r = _say(tc, cid, text="转人工")
    assert r["handoff"]["reason"] == "customer_request" and r["handoff"]["queue"] == "general"
    center = c.services["call_center"]  # a chat call waits in the queue with the context
    call = center.get_call(r["handoff"]["call_id"])
    assert call.state.value == "queued" and call.queue == "general"
    assert call.context["reason"] == "customer_request"
    assert [t["text"] for t in call.context["transcript"]][-2:] == ["转人工", r["reply"]]
    assert call.context["intents"][0]["intent"] == "human_agent"
    assert tc.get(f"/api/v1/conversations/{cid}").json()["handoff_queue"] == "general"
    r2 = tc.post(f"/api/v1/conversations/{cid}/messages", json={"text": "还在吗"})
    assert r2.status_code == 409 and r2.json()["error"] == "conversation_closed"


def test_clear_errors(world: Any) -> None:
    tc, _c, _ = world
    r = tc.post("/api/v1/conversations/nope/messages", json={"text": "你好"})
    assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
    assert tc.post("/api/v1/conversations", json={"customer_id": "C999"}).json()["error"] == (
        "customer_not_found"
    )
    r = tc.post("/api/v1/conversations", json={"phone": "12345"})
    assert r.status_code == 422 and r.json()["field"] == "phone"
    r = tc.post("/api/v1/conversations", json={"language": "fr"})
    assert r.status_code == 422 and r.json()["field"] == "language"
    cid = _open(tc)["conversation_id"]
    r = tc.post(f"/api/v1/conversations/{cid}/messages", json={"text": "  "})
    assert r.status_code == 422 and r.json()["error"] == "empty_input"
    r = tc.post(f"/api/v1/conversations/{cid}/messages", json={"text": "贷" * 501})
    assert r.status_code == 422 and r.json()["error"] == "text_too_long"
    r = tc.post(f"/api/v1/conversations/{cid}/messages", json={"dtmf": "12a"})
    assert r.status_code == 422 and r.json()["field"] == "dtmf"
    r = tc.post(f"/api/v1/conversations/{cid}/messages", json={"text": 5})
    assert r.status_code == 422
    ok = _say(tc, cid, no_input=True)
    assert "还在吗" in ok["reply"]


def test_rbac(world: Any, tmp_path: Path) -> None:
    tc, _c, _ = world
    cid = _open(tc)["conversation_id"]
    tc.headers.clear()
    tc.cookies.clear()
    assert tc.post("/api/v1/conversations", json={}).status_code == 401
    tc.headers.update(login(tc, "auditor"))
    assert tc.post("/api/v1/conversations", json={}).status_code == 403
    assert tc.get(f"/api/v1/conversations/{cid}").status_code == 200


def test_a_channel_with_an_api_key(world: Any) -> None:
    tc, c, _ = world
    _info, key = c.services["api_keys"].create(
        name="web chat",
        role="agent",
        scopes=["conversations.create", "conversations.message"],
        actor="sup",
    )
    tc.headers.clear()
    tc.cookies.clear()
    h = {"X-API-Key": key}
    r = tc.post("/api/v1/conversations", json={"channel": "web"}, headers=h)
    assert r.status_code == 201
    cid = r.json()["conversation_id"]
    m = tc.post(f"/api/v1/conversations/{cid}/messages", json={"text": "需要什么材料"}, headers=h)
    assert m.status_code == 200 and m.json()["state"] == "required_documents.ask_type"
    # neither the key's role nor its scopes allow reading transcripts
    assert tc.get(f"/api/v1/conversations/{cid}", headers=h).status_code == 403
    bad = tc.post("/api/v1/conversations", json={}, headers={"X-API-Key": key + "x"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_api_key"


def test_concurrent_turns_on_one_conversation_are_all_kept(world: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tc, c, _ = world
    svc = c.services["dialogue"]
    cid = svc.start().conversation_id
    # three silences at once: with a lost update two would both count "first silence"
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: svc.message(cid, text=""), range(3)))
    turns = tc.get(f"/api/v1/conversations/{cid}").json()["turns"]
    assert [t["seq"] for t in turns] == [0, 1, 2, 3]
    assert sum(r.ended for r in replies) == 1  # the third silence in a row ends it


def test_a_stale_copy_is_refused_by_the_store(world: Any) -> None:
    from lendline.dialogue.model import UserInput
    from lendline.errors import Conflict

    _tc, c, _ = world
    svc = c.services["dialogue"]
    cid = svc.start().conversation_id
    a, b = svc.store.load(cid), svc.store.load(cid)  # two nodes read the same turn
    a.today = b.today = "2026-11-27"
    ra = svc.engine.handle(a, UserInput(text="我想贷款"))
    svc.store.save_turn(a, "我想贷款", ra, c.clock.now())
    rb = svc.engine.handle(b, UserInput(text="我要投诉"))
    with pytest.raises(Conflict) as ei:
        svc.store.save_turn(b, "我要投诉", rb, c.clock.now())
    assert ei.value.code == "conversation_busy"
    assert svc.store.load(cid).where == "product_enquiry.ask_type"


def test_the_nlu_model_loads_in_the_background_at_start(settings: Settings) -> None:
    """With ``nlu_warm_at_start`` the model is loaded while nobody waits for it, so the
    first caller's turn does not pay for loading (or training) it; without, it stays lazy."""
    cold = build_container(settings.model_copy(update={"nlu_warm_at_start": False}))
    with TestClient(create_app(cold)):
        assert not cold.services["dialogue_engine"].nlu.loaded
        assert cold.services["dialogue_engine"].nlu.warm_thread is None
    c = build_container(settings.model_copy(update={"nlu_warm_at_start": True}))
    with TestClient(create_app(c)) as tc:
        nlu = c.services["dialogue_engine"].nlu
        assert nlu.warm_thread is not None
        nlu.warm_thread.join(timeout=300)
        assert nlu.loaded
        create_user(c, "sup", "supervisor")
        tc.headers.update(login(tc, "sup"))
        conv = _open(tc, channel="web", language="zh-CN")
        reply = _say(tc, conv["conversation_id"], text="我想贷款")
        assert reply["intent"] == "apply_loan"
