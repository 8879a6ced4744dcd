"""A small demo run (seed, every role, every GET route that needs no unknown id, the
compliance flows) with its logs and API responses scanned for any unmasked mobile or ID
number. The one endpoint whose job is to unmask (``/compliance/unmask``) is not called."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.compliance.rbac import Role, allowed
from lendline.demo.seed import seed_demo_data
from lendline.logging import configure_logging
from lendline.web.app import create_app
from tests.conftest import make_settings
from tests.helpers import login
from tests.integration.compliance.conftest import START
from tests.integration.compliance.test_role_matrix import api_routes, route_action

# bounded by anything but hex digits and '*': ids and hashes (hex) are not phone numbers
MOBILE = re.compile(r"(?<![0-9A-Fa-f*])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Fa-f*])")
ID_NUMBER = re.compile(r"(?<![0-9A-Fa-f*])\d{17}[\dXx](?![0-9A-Fa-f*])")
DEMO_USERS = {
    Role.AGENT: "agent01",
    Role.TEAM_LEAD: "lead01",
    Role.SUPERVISOR: "supervisor01",
    Role.COMPLIANCE_OFFICER: "compliance01",
    Role.ADMIN: "admin",
}
KNOWN_IDS = {"customer_id": "C000001", "agent_id": "agent01", "team_id": "team_a"}
NEVER_CALLED = {"/api/v1/compliance/unmask"}


@pytest.fixture
def demo(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[TestClient, Container]]:
    c = build_container(make_settings(tmp_path, sqlite_url), clock=ManualClock(start=START))
    seed_demo_data(c)
    with TestClient(create_app(c, manage_lifecycle=False)) as tc:
        yield tc, c
    c.db.dispose()


def _path(path: str) -> str | None:
    names = re.findall(r"\{([^}:]+)[^}]*\}", path)
    if any(n not in KNOWN_IDS for n in names):
        return None
    return re.sub(r"\{([^}:]+)[^}]*\}", lambda m: KNOWN_IDS[m.group(1)], path)


def test_no_unmasked_phone_or_id_number_leaves_the_core(
    demo: tuple[TestClient, Container], capfd: pytest.CaptureFixture[str]
) -> None:
    client, _container = demo
    configure_logging("DEBUG", json=True)
    log = structlog.get_logger("scan")
    stdlib_lines = io.StringIO()
    handler = logging.StreamHandler(stdlib_lines)
    logging.getLogger().addHandler(handler)
    seen: list[tuple[str, str]] = []

    def keep(where: str, r: Any) -> None:
        ctype = r.headers.get("content-type", "")
        if ctype.startswith(("application/json", "text/")):
            seen.append((where, r.text))

    try:
        # a log line carrying personal data must come out masked
        log.info("demo_probe", note="客户 13812345678 身份证 110105194912310021")
        logging.getLogger("scan.stdlib").warning("caller +8613912345678 called")
        for role, username in DEMO_USERS.items():
            headers = login(client, username, "demo-Passw0rd!")
            for route, method in api_routes(client.app):
                action = route_action(route)
                if method != "GET" or route.path in NEVER_CALLED:
                    continue
                if action is not None and not allowed(role.value, action):
                    continue
                path = _path(route.path)
                if path is None:
                    continue
                keep(f"{role.value} GET {path}", client.get(path, headers=headers))
        officer = login(client, "compliance01", "demo-Passw0rd!")
        agent = login(client, "agent01", "demo-Passw0rd!")
        recs = client.get("/api/v1/recordings", headers=officer)
        keep("recordings", recs)
        for rec in recs.json()[:3]:
            keep(
                "recording",
                client.get(f"/api/v1/recordings/{rec['recording_id']}", headers=officer),
            )
        for dataset in ("audit", "recordings", "contact_decisions", "rate_reviews"):
            keep(dataset, client.get(f"/api/v1/compliance/exports/{dataset}.csv", headers=officer))
        keep(
            "policy",
            client.get(
                "/api/v1/compliance/policy/check",
                headers=agent,
                params={"customer_id": "C000001", "purpose": "collection"},
            ),
        )
        keep("audit", client.get("/api/v1/compliance/audit", headers=officer))
    finally:
        structlog.reset_defaults()
        logging.getLogger().removeHandler(handler)
    out, err = capfd.readouterr()
    logs = out + err + stdlib_lines.getvalue()
    seen.append(("logs", logs))
    # the probes were logged, masked
    assert "138****5678" in logs and "110105********0021" in logs and "139****5678" in logs
    assert len(seen) > 20
    leaks = [
        (where, m.group(0))
        for where, body in seen
        for rx in (MOBILE, ID_NUMBER)
        for m in rx.finditer(body)
    ]
    assert not leaks, f"unmasked personal data: {leaks[:10]}"


def test_no_clear_phone_or_id_number_at_rest(demo: tuple[TestClient, Container]) -> None:
    """Every text column of every table after the demo seed: phone and ID numbers only
    sealed (customers) or masked (everything else)."""
    from sqlalchemy import inspect, text

    _client, container = demo
    leaks: list[tuple[str, str, str]] = []
    with container.db.engine.connect() as conn:
        insp = inspect(conn)
        for table in insp.get_table_names():
            cols = [
                c["name"]
                for c in insp.get_columns(table)
                if str(c["type"]).upper().startswith(("VARCHAR", "TEXT", "JSON", "STRING"))
            ]
            if not cols:
                continue
            q = "SELECT " + ", ".join(f'"{c}"' for c in cols) + f' FROM "{table}"'
            for row in conn.execute(text(q)):
                for col, value in zip(cols, row, strict=True):
                    for rx in (MOBILE, ID_NUMBER):
                        m = rx.search(str(value)) if value is not None else None
                        if m:
                            leaks.append((table, col, m.group(0)))
    assert not leaks, f"clear personal data at rest: {leaks[:10]}"
