"""A Prometheus scrape never fails because the database does."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY, generate_latest

from lendline.app import build_container
from lendline.calls.metrics import COLLECTOR
from tests.conftest import make_settings

GONE = "postgresql+psycopg://postgres@127.0.0.1:5432/lendline_no_such_database"


def test_a_scrape_with_the_database_gone_reports_the_rest(tmp_path: Path) -> None:
    c = build_container(make_settings(tmp_path, GONE))  # builds without connecting
    center = c.services["call_center"]
    assert COLLECTOR._ref is not None and COLLECTOR._ref() is center
    text = generate_latest(REGISTRY).decode()  # would raise: the agents load from the DB
    assert "python_info" in text and "lendline_sip_messages_rejected_total" in text
    assert "lendline_queue_waiting" not in text  # all or none of the routing figures
    assert REGISTRY.get_sample_value("lendline_routing_decisions_total") is None
