"""An agent and a supervisor in a real browser: available → incoming call → accept →
screen pop with the right customer, loan status and risk flags → hang up → disposition;
the supervisor's wallboard follows along."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import APIResponse, Browser, Page, Route, expect

from lendline.domain.customer import LOAN_STATUS_ZH, LoanStatus
from lendline.integration.api import RISK_FLAG_ZH
from tests.integration.desktop.helpers import general_queue_customer

from .conftest import ARTIFACTS, LiveApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]
PASSWORD = "demo-Passw0rd!"


def _login(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_agent_takes_a_call_and_the_wallboard_moves(live_app: LiveApp, browser: Browser) -> None:
    customer = general_queue_customer(live_app.container)
    viewport = {"width": 1366, "height": 768}
    sup_page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    agent_page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    try:
        _login(sup_page, f"{live_app.url}/supervisor", "supervisor01")
        wall = sup_page.get_by_test_id("wallboard")
        expect(
            sup_page.get_by_test_id("queue-table").locator("tr[data-queue=general]")
        ).to_be_visible()
        expect(sup_page.get_by_test_id("connection")).to_have_text("已连接")

        _login(agent_page, f"{live_app.url}/agent", "agent01")
        state = agent_page.get_by_test_id("agent-state")
        expect(state).to_have_attribute("data-state", "offline")
        expect(agent_page.get_by_test_id("connection")).to_have_text("已连接")
        agent_page.locator("#btn-available").click()
        expect(state).to_have_attribute("data-state", "available")
        agent_row = sup_page.locator("#agents tr[data-agent=agent01] [data-state]")
        expect(agent_row).to_have_attribute("data-state", "available")

        # a call comes in through the API
        token = httpx.post(
            f"{live_app.url}/api/v1/session/login",
            json={"username": "supervisor01", "password": PASSWORD},
        ).json()["token"]
        r = httpx.post(
            f"{live_app.url}/api/v1/calls",
            json={"customer_id": customer.customer_id},
            headers={"authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        incoming = agent_page.get_by_test_id("incoming-call")
        expect(incoming).to_be_visible()
        agent_page.screenshot(path=str(ARTIFACTS / "desktop-incoming.png"))
        agent_page.keyboard.press("Alt+A")  # the accept shortcut
        expect(incoming).to_be_hidden()
        expect(state).to_have_attribute("data-state", "on_call")

        pop = agent_page.get_by_test_id("screen-pop")
        expect(pop).to_have_attribute("data-call-id", r.json()["call_id"])
        name = agent_page.get_by_test_id("customer-name")
        expect(name).to_contain_text(customer.name[0] + "*")
        assert customer.name not in name.inner_text()  # masked
        statuses = {LOAN_STATUS_ZH[LoanStatus(ln.status)] for ln in customer.loans}
        loan_cells = agent_page.get_by_test_id("loan-status")
        expect(loan_cells).to_have_count(len(customer.loans))
        assert set(loan_cells.all_inner_texts()) == statuses
        flags = agent_page.get_by_test_id("risk-flags")
        for flag in customer.risk_flags.split(","):
            expect(flags).to_contain_text(RISK_FLAG_ZH[flag])
        expect(agent_page.get_by_test_id("bot-transcript")).to_be_attached()
        expect(sup_page.locator("#agents tr[data-agent=agent01] [data-state]")).to_have_attribute(
            "data-state", "on_call"
        )
        agent_page.screenshot(path=str(ARTIFACTS / "desktop-screen-pop.png"))
        # a second confirmation for a sensitive operation: a code goes to the customer
        agent_page.get_by_test_id("otp-operation").select_option("change_phone")
        agent_page.get_by_test_id("otp").click()
        expect(agent_page.get_by_test_id("otp-code")).to_be_visible()
        sup_page.screenshot(path=str(ARTIFACTS / "supervisor-wallboard-on-call.png"))

        agent_page.get_by_test_id("hangup").click()
        expect(state).to_have_attribute("data-state", "wrap_up")
        expect(agent_page.get_by_test_id("wrapup")).to_be_visible()
        agent_page.get_by_test_id("disposition").select_option("resolved")
        agent_page.get_by_test_id("disposition-note").fill("客户咨询审批进度，已告知")
        agent_page.get_by_test_id("disposition-submit").click()
        expect(agent_page.get_by_test_id("wrapup")).to_have_attribute("data-saved", "resolved")
        # the disposition ends the wrap-up: the agent is offered calls again
        expect(state).to_have_attribute("data-state", "available")
        expect(pop).to_have_attribute("data-call-id", "")
        expect(sup_page.locator("#agents tr[data-agent=agent01] [data-state]")).to_have_attribute(
            "data-state", "available"
        )
        assert int(wall.get_attribute("data-updates") or "0") >= 3
        agent_page.screenshot(path=str(ARTIFACTS / "desktop-wrapup.png"))

        # the socket drops; a call arrives meanwhile; the page resumes and misses nothing
        other = general_queue_customer(live_app.container, with_flags=False)
        # away long enough that the call below surely lands while the page is offline (2 s
        # was not, on a loaded machine: the POST alone could take that long), and back well
        # within the 15 s reservation timeout
        agent_page.evaluate("window.lendlineDesk.socket.simulateDrop(5000)")
        expect(agent_page.get_by_test_id("connection")).to_have_text("重连中…")
        r2 = httpx.post(
            f"{live_app.url}/api/v1/calls",
            json={"customer_id": other.customer_id},
            headers={"authorization": f"Bearer {token}"},
        )
        assert r2.status_code == 201, r2.text
        expect(agent_page.get_by_test_id("connection")).to_have_text("重连中…")  # still away
        expect(incoming).to_be_visible(timeout=20_000)  # once the page is back
        expect(pop).to_have_attribute("data-call-id", r2.json()["call_id"])
        expect(agent_page.get_by_test_id("customer-name")).to_contain_text(other.name[0] + "*")
        expect(agent_page.get_by_test_id("risk-flags")).not_to_contain_text("多头借贷")
        agent_page.get_by_test_id("decline-call").click()
        expect(incoming).to_be_hidden()

        # another user logs in in the same browser: the old page must not keep a customer
        agent_page.context.request.post(
            f"{live_app.url}/api/v1/session/login",
            data={"username": "agent02", "password": PASSWORD},
        )
        agent_page.evaluate("window.lendlineDesk.socket.simulateDrop(100)")
        expect(agent_page.locator("#who")).to_have_text("agent02")  # the page reloaded
        expect(pop).to_have_attribute("data-call-id", "")
        expect(agent_page.get_by_test_id("customer-name")).to_have_count(0)
        agent_page.screenshot(path=str(ARTIFACTS / "desktop-other-user.png"))

        # English toggle, and the reports tab with its CSV link
        agent_page.locator("header [data-action=lang]").click()
        expect(agent_page.locator("#btn-available")).to_have_text("Available")
        sup_page.get_by_test_id("tab-reports").click()
        expect(sup_page.get_by_test_id("report-table").locator("tbody tr").first).to_be_visible()
        href = sup_page.get_by_test_id("report-csv").get_attribute("href") or ""
        assert href.startswith("/api/v1/reports/kpis.csv?group=queue")
        sup_page.screenshot(path=str(ARTIFACTS / "supervisor-reports.png"))
    finally:
        agent_page.context.close()
        sup_page.context.close()


def test_a_late_reply_to_the_state_button_does_not_undo_a_pushed_state(
    live_app: LiveApp, browser: Browser
) -> None:
    """A call is waiting; the agent presses 示闲 and routing reserves them at once. If the
    push of the next change (the call answered) reaches the page before the reply to the
    button's request, the page must stay on the pushed state: seen in the demo with a
    softphone that answers in milliseconds (the page stuck on 振铃中 through the call)."""
    customer = general_queue_customer(live_app.container)
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()

    def token(user: str) -> str:
        r = httpx.post(
            f"{live_app.url}/api/v1/session/login", json={"username": user, "password": PASSWORD}
        )
        return str(r.json()["token"])

    try:
        _login(page, f"{live_app.url}/agent", "agent01")
        state = page.get_by_test_id("agent-state")
        expect(state).to_have_attribute("data-state", "offline")
        expect(page.get_by_test_id("connection")).to_have_text("已连接")
        expect(page.locator("#btn-break")).to_be_disabled()  # offline → break: 409
        # the 忙碌 button is gone: routing never lets an agent set itself not_ready
        expect(page.locator("header [data-state=not_ready]")).to_have_count(0)
        r = httpx.post(
            f"{live_app.url}/api/v1/calls",
            json={"customer_id": customer.customer_id},
            headers={"authorization": f"Bearer {token('supervisor01')}"},
        )
        assert r.status_code == 201, r.text
        call_id = r.json()["call_id"]

        held: list[tuple[Route, APIResponse]] = []
        page.route("**/api/v1/desktop/state", lambda route: held.append((route, route.fetch())))
        page.locator("#btn-available").click()
        expect(page.get_by_test_id("incoming-call")).to_be_visible()  # pushed: reserved
        expect(page.locator("#in-queue")).to_have_text("综合服务")  # the queue, for people
        expect(page.locator("#pop-routing dd[data-queue=general]")).to_have_text("综合服务")
        assert len(held) == 1
        a = httpx.post(
            f"{live_app.url}/api/v1/desktop/calls/{call_id}/accept",
            headers={"authorization": f"Bearer {token('agent01')}"},
        )
        assert a.status_code == 200, a.text
        expect(state).to_have_attribute("data-state", "on_call")  # pushed: answered
        route, reply = held[0]
        route.fulfill(response=reply)  # the late reply: "reserved"
        expect(page.locator("body")).to_have_attribute("data-state-replies", "1")
        expect(state).to_have_attribute("data-state", "on_call")
    finally:
        page.context.close()


def test_the_longest_wait_on_the_wallboard_grows_while_a_call_waits(
    live_app: LiveApp, browser: Browser
) -> None:
    """No agent is available: the call waits and nothing else happens, so no new snapshot
    is pushed; the wallboard still counts the longest wait on (it stayed at 00:00)."""
    customer = general_queue_customer(live_app.container)
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    try:
        _login(page, f"{live_app.url}/supervisor", "supervisor01")
        expect(page.get_by_test_id("connection")).to_have_text("已连接")
        token = httpx.post(
            f"{live_app.url}/api/v1/session/login",
            json={"username": "supervisor01", "password": PASSWORD},
        ).json()["token"]
        r = httpx.post(
            f"{live_app.url}/api/v1/calls",
            json={"customer_id": customer.customer_id},
            headers={"authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        row = page.get_by_test_id("queue-table").locator("tr[data-queue=general]")
        expect(row.locator("[data-col=waiting]")).to_have_text("1")
        expect(row.locator("[data-col=queue]")).to_have_text("综合服务")  # not "general"
        expect(row.locator("[data-col=ewt]")).to_have_text("≥60:00")  # no agent logged in
        wait = row.locator("[data-col=longest-wait]")
        expect(wait).to_have_text(re.compile(r"^00:0[3-9]$"), timeout=15_000)
        # the footer's time is a 24-hour clock on the Chinese page
        expect(page.locator("#updated")).not_to_contain_text("M")
    finally:
        page.context.close()


def test_a_page_whose_session_is_gone_shows_the_login_instead_of_reconnecting(
    live_app: LiveApp, browser: Browser
) -> None:
    """After the demo restarts (a new session secret) or a logout elsewhere, the socket is
    refused for ever: the page said 重连中… until reloaded by hand."""
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    try:
        _login(page, f"{live_app.url}/agent", "agent01")
        expect(page.get_by_test_id("connection")).to_have_text("已连接")
        assert page.request.post(f"{live_app.url}/api/v1/session/logout").ok
        page.evaluate("window.lendlineDesk.socket.simulateDrop(200)")
        expect(page.get_by_test_id("login-username")).to_be_visible(timeout=15_000)
    finally:
        page.context.close()
