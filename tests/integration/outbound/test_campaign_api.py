"""Campaigns through the HTTP API on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendline.app import build_container
from lendline.clock import ManualClock
from lendline.demo.seed import seed_demo_data
from lendline.settings import Settings
from lendline.web.app import create_app
from tests.helpers import create_user, login

SPEC = (Path(__file__).parents[3] / "campaigns" / "collection-m1.yaml").read_text(encoding="utf-8")


@dataclass
class _Decision:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    next_allowed_at: datetime | None = None


class _QuietPolicy:
    """Refuses one named customer, allows the rest (the real policy is tested by compliance)."""

    def __init__(self, refuse: str) -> None:
        self.refuse = refuse
        self.asked: list[tuple[str, str]] = []

    def decide(self, customer_id: str, *, purpose: str, at: datetime, actor: str) -> _Decision:
        self.asked.append((customer_id, purpose))
        if customer_id == self.refuse:
            return _Decision(False, ["quiet_hours"])
        return _Decision(True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    c = build_container(settings)
    seed_demo_data(c)
    create_user(c, "sup", "supervisor")
    create_user(c, "ag", "agent", agent_id="agent01")
    with TestClient(create_app(c)) as tc:
        yield tc


def test_campaign_lifecycle(client: TestClient) -> None:
    container = client.app.state.container  # type: ignore[attr-defined]
    # the API stamps new targets with the wall clock, so the campaign's day must come after
    # it: a fixed date (2026-12-01) would have stopped every dial once CI ran past it
    day = datetime.now(UTC).date() + timedelta(days=2)
    sup = login(client, "sup")
    r = client.post("/api/v1/campaigns", json={"definition": SPEC}, headers=sup)
    assert r.status_code == 201, r.text
    cid = r.json()["campaign_id"]
    added = client.post(f"/api/v1/campaigns/{cid}/targets", json={}, headers=sup).json()["added"]
    assert added > 0  # the demo has customers 1–30 days overdue
    # without a contact policy nothing is dialled
    real_policy = container.services.pop("contact_policy")
    r = client.post(f"/api/v1/campaigns/{cid}/dials", headers=sup)
    assert r.json()["dials"] == [] and r.json()["refusals"][0]["reasons"] == ["no_contact_policy"]
    first = r.json()["refusals"][0]["customer_id"]
    # with a policy: the refused customer is skipped, the rest are paced
    policy = _QuietPolicy(refuse=first)
    container.services["contact_policy"] = policy
    r = client.post(
        f"/api/v1/campaigns/{cid}/dials",
        params={"at": f"{day}T03:00:00Z", "limit": 5},
        headers=sup,
    )
    body = r.json()
    assert len(body["dials"]) == min(5, added - 1)
    assert all(d["kind"] == "bot" and d["flow"] == "collection_reminder" for d in body["dials"])
    assert first not in {d["customer_id"] for d in body["dials"]}
    assert all(purpose == "collection" for _c, purpose in policy.asked)
    target = body["dials"][0]["customer_id"]
    r = client.post(
        f"/api/v1/campaigns/{cid}/outcomes",
        params={"at": f"{day}T03:01:00Z"},
        json={"customer_id": target, "outcome": "unable_to_pay"},
        headers=sup,
    )
    assert r.status_code == 200 and r.json()["stage"] == 1 and r.json()["state"] == "pending"
    summary = client.get(f"/api/v1/campaigns/{cid}", headers=sup).json()
    assert summary["dials"] == len(body["dials"])
    # the real contact policy: 23:30 in Shanghai is quiet hours for every target
    container.services["contact_policy"] = real_policy
    r = client.post(
        f"/api/v1/campaigns/{cid}/dials", params={"at": f"{day}T15:30:00Z"}, headers=sup
    )
    night = r.json()
    assert night["dials"] == [] or all(d["customer_id"] != first for d in night["dials"])
    quiet = [x for x in night["refusals"] if "quiet_hours" in x["reasons"]]
    morning = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)  # 08:00 CST
    assert quiet and all(datetime.fromisoformat(x["next_allowed_at"]) == morning for x in quiet)


def test_bad_input_and_roles(client: TestClient) -> None:
    sup, ag = login(client, "sup"), login(client, "ag")
    bad = client.post(
        "/api/v1/campaigns",
        json={"definition": "name: x\npurpose: sales\nstages: []\n"},
        headers=sup,
    )
    assert (
        bad.status_code == 422
        and bad.json()["error"] == "invalid_campaign"
        and bad.json()["line"] == 1
    )
    assert (
        client.post("/api/v1/campaigns", json={"definition": SPEC}, headers=ag).status_code == 403
    )
    assert (
        client.get("/api/v1/campaigns/CPNOPE", headers=sup).json()["error"] == "campaign_not_found"
    )
    cid = client.post("/api/v1/campaigns", json={"definition": SPEC}, headers=sup).json()[
        "campaign_id"
    ]
    r = client.post(
        f"/api/v1/campaigns/{cid}/targets", json={"customer_ids": ["C999999"]}, headers=sup
    )
    assert r.status_code == 404 and r.json()["error"] == "customer_not_found"
    r = client.post(
        f"/api/v1/campaigns/{cid}/outcomes",
        json={"customer_id": "C000001", "outcome": "maybe"},
        headers=sup,
    )
    assert r.status_code == 422 and r.json()["field"] == "outcome"
    r = client.post(
        f"/api/v1/campaigns/{cid}/outcomes",
        json={"customer_id": "C000001", "outcome": "paid"},
        headers=sup,
    )
    assert r.status_code == 404 and r.json()["error"] == "not_in_campaign"


def test_dials_without_a_time_use_the_apps_clock(settings: Settings) -> None:
    # 23:00 in Shanghai on the app's clock: the real contact policy's quiet hours refuse
    # every dial, whatever the wall clock of the machine running the test says
    clock = ManualClock(start=datetime(2027, 1, 4, 15, 0, tzinfo=UTC))
    c = build_container(settings, clock=clock)
    seed_demo_data(c)
    create_user(c, "sup", "supervisor")
    with TestClient(create_app(c)) as tc:
        sup = login(tc, "sup")
        cid = tc.post("/api/v1/campaigns", json={"definition": SPEC}, headers=sup).json()[
            "campaign_id"
        ]
        assert tc.post(f"/api/v1/campaigns/{cid}/targets", json={}, headers=sup).json()["added"]
        night = tc.post(f"/api/v1/campaigns/{cid}/dials", params={"limit": 5}, headers=sup).json()
        assert night["dials"] == [] and night["refusals"]
        assert all("quiet_hours" in r["reasons"] for r in night["refusals"])
        # 10:00 in Shanghai the next morning on the same clock: dials go out
        clock.advance(11 * 3600)
        morning = tc.post(f"/api/v1/campaigns/{cid}/dials", params={"limit": 5}, headers=sup)
        assert len(morning.json()["dials"]) == 5
