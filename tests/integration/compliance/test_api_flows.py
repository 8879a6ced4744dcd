from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from lendline.app import Container
from lendline.clock import ManualClock
from lendline.compliance.rbac import Role
from lendline.domain.customer import Customer, LoanAccount, LoanStatus, LoanType
from lendline.domain.events import ComplianceAlert, DomainEvent
from lendline.domain.recording import RecordingMeta
from lendline.store.customers import CustomerRepository
from lendline.store.models import CallRow, ContactRow, TeamRow
from tests.helpers import login
from tests.integration.compliance.conftest import START, outbox_codes

PHONE = "+8613812345678"
ID_NUMBER = "11010519491231002X"


def _customers(c: Container) -> None:
    with c.db.session() as s:
        s.add_all(
            [TeamRow(team_id="team_a", name="催收一组"), TeamRow(team_id="team_b", name="二组")]
        )
        s.flush()
        repo = CustomerRepository(s, c.field_cipher)
        repo.add(Customer("C1", "张三", PHONE, id_number=ID_NUMBER, team="team_a"))
        repo.add(Customer("C2", "李四", "+8613900001111", team="team_b"))
        s.flush()
        repo.add_loan(
            LoanAccount(
                "L1",
                "C1",
                "consumer",
                LoanType.PERSONAL,
                1_000_000,
                800_000,
                Decimal("12.0"),
                12,
                LoanStatus.REPAYING,
            )
        )


def _on_call(c: Container, agent_id: str, customer_id: str) -> None:
    with c.db.session() as s:
        s.add(
            CallRow(
                call_id=f"call-{agent_id}",
                customer_id=customer_id,
                agent_id=agent_id,
                state="connected",
                started_at=START,
                direction="inbound",
                caller_masked="",
                caller_digest="",
                dialed="",
                reason="",
                priority=0,
                routing_reason="",
                disposition_note="",
                quality={},
                context={},
                node_id="n1",
            )
        )


def test_login_lockout_and_address_throttle(
    client: TestClient, container: Container, users: dict[Role, str], clock: ManualClock
) -> None:
    name = users[Role.AGENT]
    for _ in range(5):
        r = client.post("/api/v1/session/login", json={"username": name, "password": "wrong"})
        assert r.status_code == 401 and r.json()["error"] == "login_failed"
    locked = client.post(
        "/api/v1/session/login", json={"username": name, "password": "Test-Passw0rd!"}
    )
    assert locked.status_code == 423 and locked.json()["error"] == "account_locked"
    outcomes = [e.outcome for e in container.services["audit"].search(action="session.login")]
    assert outcomes[0] == "locked" and outcomes.count("failed") == 5
    clock.advance(15 * 60)
    login(client, name)  # the lock has run out
    clock.advance(60)
    for i in range(20):  # the 20 attempts a minute one address may make
        client.post("/api/v1/session/login", json={"username": f"nobody{i}", "password": "x"})
    throttled = client.post("/api/v1/session/login", json={"username": name, "password": "x"})
    assert throttled.status_code == 429 and throttled.json()["error"] == "too_many_attempts"


def test_a_disabled_user_loses_the_session(
    client: TestClient, container: Container, users: dict[Role, str], clock: ManualClock
) -> None:
    headers = login(client, users[Role.TEAM_LEAD])
    assert client.get("/api/v1/session/me", headers=headers).status_code == 200
    with container.db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET role='agent' WHERE username='lead_a'"))
    clock.advance(5)
    r = client.get("/api/v1/session/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "session_revoked"
    with container.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET role='team_lead', active=false WHERE username='lead_a'")
        )
    clock.advance(5)
    assert client.get("/api/v1/session/me", headers=headers).status_code == 401


def test_second_confirmation_runs_the_operation_only_after_the_code(
    client: TestClient, container: Container, users: dict[Role, str]
) -> None:
    _customers(container)
    _on_call(container, "agent01", "C1")
    ran: list[dict[str, Any]] = []
    container.services["otp"].register_handler(
        "repayment_plan_change", lambda params, actor: ran.append(params) or {"plan": "applied"}
    )
    agent = login(client, users[Role.AGENT])
    plan = {"loan_id": "L1", "months": 12, "monthly_fen": 70000}
    r = client.post(
        "/api/v1/compliance/otp",
        headers=agent,
        json={"operation": "repayment_plan_change", "customer_id": "C1", "params": plan},
    )
    assert r.status_code == 201, r.text
    started = r.json()
    assert started["phone"] == "138****5678" and ran == []
    code = outbox_codes(container.settings.data_dir)[-1]
    url = f"/api/v1/compliance/otp/{started['challenge_id']}/confirm"
    other_plan = {**plan, "monthly_fen": 10000}
    wrong = client.post(
        url,
        headers=agent,
        json={"code": code, "operation": "repayment_plan_change", "params": other_plan},
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "otp_mismatch" and ran == []
    ok = client.post(
        url,
        headers=agent,
        json={"code": code, "operation": "repayment_plan_change", "params": plan},
    )
    assert ok.status_code == 200 and ok.json()["result"] == {"plan": "applied"} and ran == [plan]
    again = client.post(
        url,
        headers=agent,
        json={"code": code, "operation": "repayment_plan_change", "params": plan},
    )
    assert again.status_code == 409 and again.json()["error"] == "otp_used" and len(ran) == 1
    not_on_call = client.post(
        "/api/v1/compliance/otp",
        headers=agent,
        json={"operation": "change_phone", "customer_id": "C2"},
    )
    assert not_on_call.status_code == 404
    with container.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT code_hash, phone_masked FROM otp_challenges")).first()
    assert stored is not None and code not in stored[0] and stored[1] == "138****5678"
    actions = [e.action for e in container.services["audit"].search(limit=20)]
    assert {"otp.start", "otp.confirm"} <= set(actions)
    # the desktop's call: the customer by id, an alias for the operation, no params
    desk = container.services["otp"].start(
        subject_id="C2", operation="change_card", actor="agent01"
    )
    assert desk.operation == "change_bank_account" and desk.phone_masked == "139****1111"
    assert len(outbox_codes(container.settings.data_dir)) == 2


def test_rate_above_the_cap_is_held_for_a_second_person(
    client: TestClient, container: Container, users: dict[Role, str]
) -> None:
    _customers(container)
    alerts: list[DomainEvent] = []
    container.bus.subscribe(alerts.append, ComplianceAlert)
    agent = login(client, users[Role.AGENT])
    sup = login(client, users[Role.SUPERVISOR])
    fine = client.post(
        "/api/v1/compliance/rate-reviews",
        headers=agent,
        json={"loan_id": "L1", "offered_rate_pct": "14.00"},
    )
    assert fine.status_code == 201 and fine.json()["state"] == "auto_approved"
    assert fine.json()["offered_rate_pct"] == "14.0000" and alerts == []
    held = client.post(
        "/api/v1/compliance/rate-reviews",
        headers=agent,
        json={"loan_id": "L1", "offered_rate_pct": "14.01", "call_id": "call-9"},
    )
    body = held.json()
    assert body["state"] == "pending" and body["offered_rate_pct"] is None  # not told yet
    assert body["threshold_pct"] == "14.0000" and len(alerts) == 1
    assert isinstance(alerts[0], ComplianceAlert) and alerts[0].kind == "rate_cap"
    assert container.services["rate_review"].disclosable_rate(body["review_id"]) is None
    url = f"/api/v1/compliance/rate-reviews/{body['review_id']}/decision"
    assert client.post(url, headers=agent, json={"approve": True}).status_code == 403
    ok = client.post(url, headers=sup, json={"approve": True, "note": "客户资质变化"})
    assert ok.status_code == 200 and ok.json()["offered_rate_pct"] == "14.0100"
    own = client.post(
        "/api/v1/compliance/rate-reviews",
        headers=sup,
        json={"contract_rate_pct": "5", "offered_rate_pct": "9"},
    )
    self_check = client.post(
        f"/api/v1/compliance/rate-reviews/{own.json()['review_id']}/decision",
        headers=sup,
        json={"approve": True},
    )
    assert self_check.status_code == 403 and self_check.json()["error"] == "same_person"
    bad = client.post(
        "/api/v1/compliance/rate-reviews",
        headers=agent,
        json={"loan_id": "L1", "offered_rate_pct": "lots"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "offered_rate_pct"


def test_policy_check_api_cli_and_do_not_call(
    client: TestClient,
    container: Container,
    users: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _customers(container)
    with container.db.session() as s:
        for i in range(3):
            s.add(
                ContactRow(
                    customer_id="C1",
                    at=START - timedelta(hours=1, minutes=i),
                    channel="call",
                    direction="outbound",
                    purpose="collection",
                    connected=True,
                )
            )
    agent = login(client, users[Role.AGENT])
    r = client.get(
        "/api/v1/compliance/policy/check",
        headers=agent,
        params={"customer_id": "C1", "purpose": "collection"},
    )
    assert r.status_code == 200
    assert r.json()["allowed"] is False and r.json()["reasons"] == ["daily_connected_cap"]
    assert r.json()["next_allowed_at"].startswith("2026-03-03T00:00:00")  # 08:00 in Shanghai
    night = client.get(
        "/api/v1/compliance/policy/check",
        headers=agent,
        params={"customer_id": "C2", "purpose": "marketing", "at": "2026-03-02T23:30:00+08:00"},
    )
    assert night.json()["reasons"] == ["quiet_hours"]
    assert (
        client.post(
            "/api/v1/compliance/dnc",
            headers=agent,
            json={"customer_id": "C2", "source": "bot", "reason": "客户说别再打了"},
        ).status_code
        == 201
    )
    dnc = client.get(
        "/api/v1/compliance/policy/check",
        headers=agent,
        params={"customer_id": "C2", "purpose": "marketing"},
    )
    assert dnc.json() == {
        "allowed": False,
        "reasons": ["do_not_call"],
        "next_allowed_at": None,
        "restrictions": [],
        "local_time": dnc.json()["local_time"],
    }
    missing = client.get(
        "/api/v1/compliance/policy/check",
        headers=agent,
        params={"customer_id": "C404", "purpose": "service"},
    )
    assert missing.status_code == 404 and missing.json()["error"] == "customer_not_found"
    bad = client.get(
        "/api/v1/compliance/policy/check",
        headers=agent,
        params={"customer_id": "C1", "purpose": "sales"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "purpose"
    lead = login(client, users[Role.TEAM_LEAD])
    stored = client.get("/api/v1/compliance/policy/decisions", headers=lead).json()
    assert len(stored) == 3 and stored[0]["reasons"] == ["do_not_call"]
    for name, value in (
        ("DATABASE_URL", container.settings.database_url),
        ("DATA_DIR", str(container.settings.data_dir)),
        ("MASTER_KEY", container.settings.master_key),
    ):
        monkeypatch.setenv(f"LENDLINE_{name}", value)
    out = CliRunner().invoke(
        __import__("lendline.cli", fromlist=["app"]).app,
        [
            "policy",
            "check",
            "--customer",
            "C1",
            "--at",
            "2026-03-02T23:00:00+08:00",
            "--purpose",
            "collection",
        ],
    )
    assert out.exit_code == 0, out.output
    decision = json.loads(out.output)
    assert decision["allowed"] is False
    assert decision["reasons"] == ["daily_connected_cap", "quiet_hours"]
    assert decision["next_allowed_at"].startswith("2026-03-03T00:00:00")


def test_playback_is_scoped_streamed_and_audited(
    client: TestClient, container: Container, users: dict[Role, str]
) -> None:
    sink = container.services["recording_sink"]
    pcm = os.urandom(96_000)
    ids = {}
    for agent_id in ("agent01", "agent02"):
        w = sink.open(RecordingMeta(f"call-{agent_id}", START, customer_id="C1", agent_id=agent_id))
        w.write(pcm)
        w.close()
        ids[agent_id] = w.recording_id
    agent = login(client, users[Role.AGENT])
    listed = client.get("/api/v1/recordings", headers=agent).json()
    assert [r["agent_id"] for r in listed] == ["agent01"]
    view = container.services["audit"].search(limit=1)[0]  # a data view is audited
    assert (view.actor, view.action, view.outcome) == ("agent01", "recordings.search", "viewed")
    r = client.get(
        f"/api/v1/recordings/{ids['agent01']}/audio", headers=agent, params={"reason": "复核通话"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and r.content[44:] == pcm
    assert int(r.headers["content-length"]) == 44 + len(pcm)
    last = container.services["audit"].search(limit=1)[0]
    assert (last.actor, last.action, last.target) == ("agent01", "recordings.play", ids["agent01"])
    assert "复核通话" in last.detail
    whole = r.content  # the browser seeks with Range requests: only the chunks spanned
    url = f"/api/v1/recordings/{ids['agent01']}/audio"
    for rng, (a, b) in (
        ("bytes=0-99", (0, 100)),
        ("bytes=65000-70000", (65000, 70001)),
        ("bytes=-10", (len(whole) - 10, len(whole))),
        ("bytes=90000-", (90000, len(whole))),
    ):
        part = client.get(url, headers={**agent, "Range": rng}, params={"reason": "跳到中段"})
        assert part.status_code == 206 and part.content == whole[a:b], rng
        assert part.headers["content-range"] == f"bytes {a}-{b - 1}/{len(whole)}"
    beyond = client.get(
        url, headers={**agent, "Range": f"bytes={len(whole)}-"}, params={"reason": "x!"}
    )
    assert beyond.status_code == 416 and beyond.json()["error"] == "range_not_satisfiable"
    other = client.get(
        f"/api/v1/recordings/{ids['agent02']}/audio", headers=agent, params={"reason": "好奇"}
    )
    assert other.status_code == 404
    no_reason = client.get(f"/api/v1/recordings/{ids['agent01']}/audio", headers=agent)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    assert (
        client.get(
            f"/api/v1/recordings/{ids['agent01']}/download",
            headers=agent,
            params={"reason": "备份"},
        ).status_code
        == 403
    )
    officer = login(client, users[Role.COMPLIANCE_OFFICER])
    path = container.settings.effective_recordings_dir / f"{ids['agent02']}.audio"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 1
    path.write_bytes(bytes(raw))
    tampered = client.get(
        f"/api/v1/recordings/{ids['agent02']}/download",
        headers=officer,
        params={"reason": "投诉调查"},
    )
    assert tampered.status_code == 409 and tampered.json()["error"] == "recording_tampered"
    assert container.services["audit"].search(limit=1)[0].outcome == "tampered"
    seek = client.get(
        f"/api/v1/recordings/{ids['agent02']}/audio",
        params={"reason": "投诉调查"},
        headers={**officer, "Range": "bytes=50-150"},
    )
    assert seek.status_code == 409 and seek.json()["error"] == "recording_tampered"


def test_exports_are_watermarked_and_unmasking_needs_a_reason(
    client: TestClient, container: Container, users: dict[Role, str]
) -> None:
    _customers(container)
    officer = login(client, users[Role.COMPLIANCE_OFFICER])
    sup = login(client, users[Role.SUPERVISOR])
    no_reason = client.post(
        "/api/v1/compliance/unmask", headers=sup, json={"customer_id": "C1", "field": "phone"}
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    r = client.post(
        "/api/v1/compliance/unmask",
        headers=sup,
        json={"customer_id": "C1", "field": "id_number", "reason": "客户投诉核实身份"},
    )
    assert r.status_code == 200 and r.json()["value"] == ID_NUMBER
    entry = container.services["audit"].search(action="customers.unmask")[0]
    assert entry.actor == users[Role.SUPERVISOR] and "客户投诉核实身份" in entry.detail
    csv_r = client.get("/api/v1/compliance/exports/audit.csv", headers=officer)
    assert csv_r.status_code == 200
    assert users[Role.COMPLIANCE_OFFICER] in csv_r.headers["content-disposition"]
    lines = csv_r.text.splitlines()
    assert lines[0].startswith("# 导出人 exported by officer (compliance_officer) at 2026-03-02")
    assert lines[1].startswith("seq,at,actor,action") and lines[-1].startswith("# end of export")
    assert all(line.endswith(lines[2].rsplit(",", 1)[1]) for line in lines[2:-1])
    assert ID_NUMBER not in csv_r.text and "13812345678" not in csv_r.text
    assert container.services["audit"].search(limit=1)[0].action == "exports.csv"
    assert client.get("/api/v1/compliance/exports/audit.csv", headers=sup).status_code == 403
