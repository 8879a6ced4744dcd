from datetime import UTC, datetime, timedelta

import pytest

from lendline.analytics.kpis import CallRecord, kpis_by

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 Shanghai


def _r(i: int, **kw: object) -> CallRecord:
    values: dict[str, object] = {"call_id": f"c{i}", "started_at": T0 + timedelta(minutes=i)}
    values.update(kw)
    return CallRecord(**values)  # type: ignore[arg-type]


RECORDS = [
    _r(
        1,
        queue="q1",
        agent_id="a1",
        customer_id="x",
        answered=True,
        end_reason="answered",
        wait_s=10,
        talk_s=100,
        resolved=True,
        disposition="resolved",
    ),
    _r(
        2,
        queue="q1",
        agent_id="a1",
        customer_id="y",
        answered=True,
        end_reason="answered",
        wait_s=30,
        talk_s=200,
        wrap_s=20,
        resolved=True,
        disposition="resolved",
    ),
    _r(3, queue="q1", customer_id="z", end_reason="abandoned", wait_s=45),
    _r(
        4,
        queue="q2",
        agent_id="a2",
        customer_id="x",
        answered=True,
        end_reason="answered",
        wait_s=5,
        talk_s=60,
        resolved=False,
        disposition="unresolved",
        via_bot=True,
    ),
    _r(5, end_reason="bot_completed", via_bot=True),
]


def test_kpis_by_queue() -> None:
    rep = kpis_by(RECORDS, "queue")
    rows = {r["key"]: r for r in rep["rows"]}
    q1 = rows["q1"]
    assert (q1["offered"], q1["answered"], q1["abandoned"]) == (3, 2, 1)
    assert q1["asa_s"] == 20.0
    assert q1["aht_s"] == 160.0  # (100 + 200 + 20) / 2
    assert q1["service_level"] == pytest.approx(1 / 3, abs=1e-4)  # only c1 within 20 s
    assert q1["abandon_rate"] == pytest.approx(1 / 3, abs=1e-4)
    # c1's customer x called again (c4) within 7 days: not a first-contact resolution
    assert q1["fcr"] == 0.5
    assert rows["(bot)"]["containment"] == 1.0
    total = rep["total"]
    assert total["offered"] == 5 and total["bot_calls"] == 2 and total["containment"] == 0.5


def test_kpis_by_agent_day_hour_use_the_centre_time_zone() -> None:
    assert [r["key"] for r in kpis_by(RECORDS, "agent")["rows"]] == ["-", "a1", "a2"]
    assert [r["key"] for r in kpis_by(RECORDS, "day")["rows"]] == ["2026-11-26"]
    assert [r["key"] for r in kpis_by(RECORDS, "hour")["rows"]] == ["09:00"]


def test_empty_and_unknown_group() -> None:
    assert kpis_by([], "queue")["total"]["asa_s"] is None
    with pytest.raises(ValueError):
        kpis_by(RECORDS, "planet")
