"""SIGHUP re-reads the rules file; an invalid file is refused and the old rules stay."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from lendline.app import build_container
from tests.conftest import make_settings

GOOD = (
    "queues: {general: {}}\nrules:\n  - name: {name}\n    when: true\n    target: queue:general\n"
)


async def test_sighup_reloads_rules(tmp_path: Path, sqlite_url: str) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(GOOD.replace("{name}", "first"), "utf-8")
    c = build_container(make_settings(tmp_path, sqlite_url, rules_file=rules))
    await c.start()
    try:
        if signal.getsignal(signal.SIGHUP) in (signal.SIG_DFL, None):
            pytest.skip("no SIGHUP handler in this event loop (not the main thread)")
        source = c.services["routing_rules"]
        center = c.services["call_center"]
        assert [r.name for r in source.current.rules] == ["first"]
        rules.write_text(GOOD.replace("{name}", "second"), "utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(50):
            await asyncio.sleep(0.02)
            if source.current.rules[0].name == "second":
                break
        assert [r.name for r in center.config.rules] == ["second"]
        rules.write_text("rules:\n  - name: broken\n    when: (\n", "utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.3)
        assert [r.name for r in center.config.rules] == ["second"]  # still in force
    finally:
        await c.stop()
