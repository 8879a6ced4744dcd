"""Listen-in from the wallboard in a real browser, on a real SIP call: a caller's baresip
phone is bridged to agent01's baresip phone; supervisor01 (whose baresip softphone is
registered with its staff account) clicks 监听 on agent01's row, then 耳语, then 结束监听.
The wallboard marker, the Stop button and the agent desktop's notice (whisper only: never
a silent listen-in) follow over the WebSocket; the call stays connected after the stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import make_settings
from tests.integration.sip.baresip_agent import HAVE_BARESIP, BaresipAgent, tone_wav

from .conftest import ARTIFACTS, LiveApp, serve
from .test_desktop_browser import PASSWORD, _login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.baresip,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not HAVE_BARESIP, reason="baresip not installed"),
]


class Phones:
    """baresip phones driven from a sync test: their own event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.phones: dict[str, BaresipAgent] = {}

    def run(self, co: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(co, self.loop).result(30)

    def start(self, name: str, phone: BaresipAgent) -> BaresipAgent:
        self.phones[name] = phone
        self.run(phone.start())
        return phone

    def close(self) -> None:
        for p in self.phones.values():
            self.run(p.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _until(cond: Callable[[], bool], timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def sip_app(tmp_path: Path, sqlite_url: str) -> Iterator[LiveApp]:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        connector_timeout_s=2.0,
        sip_enabled=True,
        sip_port=0,
        rtp_port_min=0,
        rtp_port_max=0,
        tts_engine="",
    )
    with serve(settings) as app:
        yield app


def test_supervisor_listens_whispers_and_stops_from_the_wallboard(
    sip_app: LiveApp, browser: Browser, tmp_path: Path
) -> None:
    c = sip_app.container
    registrar = c.services["sip_registrar"]
    controller = c.services["call_controller"]
    sip = f"127.0.0.1:{c.services['sip_server'].port}"
    phones = Phones()
    viewport = {"width": 1366, "height": 768}
    sup_page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    agent_page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    try:
        for name, user, regint in (
            ("caller", "13900000001", 0),
            ("agent", "agent01", 300),
            ("supervisor", "supervisor01", 300),
        ):
            audio = tone_wav(tmp_path / f"{name}.wav", 60.0)
            phones.start(
                name,
                BaresipAgent(tmp_path / name, user, PASSWORD, sip, audio, regint=regint),
            )
        assert _until(
            lambda: all(
                registrar.lookup(u, c.clock.monotonic()) for u in ("agent01", "supervisor01")
            )
        ), "phones did not register"

        _login(sup_page, f"{sip_app.url}/supervisor", "supervisor01")
        expect(sup_page.get_by_test_id("connection")).to_have_text("已连接")
        _login(agent_page, f"{sip_app.url}/agent", "agent01")
        expect(agent_page.get_by_test_id("connection")).to_have_text("已连接")
        agent_page.locator("#btn-available").click()
        expect(agent_page.get_by_test_id("agent-state")).to_have_attribute(
            "data-state", "available"
        )

        phones.run(phones.phones["caller"].command("dial", f"sip:95588@{sip}"))
        assert _until(
            lambda: any(leg.connected for leg in list(controller.by_call.values())), 30
        ), "the call did not reach agent01's phone"
        (leg,) = [leg for leg in list(controller.by_call.values()) if leg.connected]
        expect(agent_page.get_by_test_id("agent-state")).to_have_attribute("data-state", "on_call")
        row = sup_page.locator("#agents tr[data-agent=agent01]")
        marker = row.get_by_test_id("supervision-marker")
        notice = agent_page.get_by_test_id("supervision-notice")

        row.locator("button[data-mode=listen]").click()  # rings supervisor01's softphone
        expect(marker).to_have_attribute("data-sv-state", "active", timeout=20_000)
        expect(marker).to_have_attribute("data-mode", "listen")
        expect(marker).to_contain_text("supervisor01")
        expect(row.get_by_test_id("stop-supervise")).to_be_visible()
        expect(notice).to_be_hidden()  # a silent listen-in is not shown to the agent
        sup_page.screenshot(path=str(ARTIFACTS / "supervisor-listening.png"))

        row.locator("button[data-mode=whisper]").click()
        expect(marker).to_have_attribute("data-mode", "whisper")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("supervisor01")
        expect(notice).to_contain_text("耳语")
        agent_page.screenshot(path=str(ARTIFACTS / "desktop-whisper-notice.png"))

        agent_page.reload()  # the notice survives a reload (/desktop/me)
        expect(notice).to_be_visible()
        expect(notice).to_have_attribute("data-mode", "whisper")

        sup_sip = leg.supervision.sip
        row.get_by_test_id("stop-supervise").click()  # 结束监听
        expect(marker).to_have_count(0)
        expect(row.get_by_test_id("stop-supervise")).to_have_count(0)
        expect(notice).to_be_hidden()
        assert _until(lambda: sup_sip.state.value == "terminated")  # BYE to the softphone
        assert leg.connected and leg.supervision is None and not leg.ended.is_set()
        expect(agent_page.get_by_test_id("agent-state")).to_have_attribute("data-state", "on_call")
        sup_page.screenshot(path=str(ARTIFACTS / "supervisor-stopped.png"))
    finally:
        agent_page.context.close()
        sup_page.context.close()
        phones.close()
