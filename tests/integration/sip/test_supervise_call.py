"""Listen-in, whisper and barge with three real softphones (baresip): a caller (500 Hz) is
bridged to agent01 (1100 Hz); supervisor01's phone (1700 Hz), registered with its staff SIP
account, is brought in through the HTTP API and moved listen → whisper → barge on the same
leg, then stopped from the browser (DELETE: lendline sends BYE). What each phone *heard*
(baresip's ``sndfile`` dump of its decoded audio) is cut into the phases and each tone is
looked for with an FFT. Along the way the wallboard marker and the agent's notice are read
over HTTP and from the push hub's topics (what the WebSocket sends)."""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from lendline.domain.agent import AgentState
from lendline.errors import Conflict
from lendline.web.app import create_app
from lendline.web.desktop_feed import WALLBOARD, agent_topic
from tests.helpers import PASSWORD, create_user, eventually

from .baresip_agent import HAVE_BARESIP, BaresipAgent, tone_wav
from .test_agent_call import _connected_leg, _sip_container, _wait_registered, recorded_pcm

pytestmark = [
    pytest.mark.baresip,
    pytest.mark.skipif(not HAVE_BARESIP, reason="baresip not installed"),
]
CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 500.0, 1100.0, 1700.0
PHASE_S = 2.5
MARGIN_S = 0.6  # cut off each phase's edges: mode switch and jitter-buffer delay


def tone_amplitude(x: np.ndarray, hz: float) -> float:
    """Amplitude of the ``hz`` component of 8 kHz int16 samples (Hann window, peak bin ±2)."""
    w = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x.astype(float) * w)) * 2 / w.sum()
    k = round(hz * len(x) / 8000)
    return float(spectrum[max(0, k - 2) : k + 3].max())


def heard(phone: BaresipAgent) -> np.ndarray:
    """What the phone decoded (received) during its call, as int16 samples."""
    (path,) = [p for p in phone.heard() if p.stem.endswith("dec")]
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (1, 8000)
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def window(pcm: np.ndarray, end_t: float, start: float, stop: float) -> np.ndarray:
    """Samples between monotonic times ``start``..``stop``, the file ending at ``end_t``."""
    a = len(pcm) - round((end_t - (start + MARGIN_S)) * 8000)
    b = len(pcm) - round((end_t - (stop - MARGIN_S)) * 8000)
    assert 0 <= a < b <= len(pcm), (a, b, len(pcm))
    return pcm[a:b]


async def test_listen_whisper_barge_with_three_baresip_phones(
    tmp_path: Path, sqlite_url: str
) -> None:
    c = _sip_container(tmp_path, sqlite_url, recordings_dir=tmp_path / "rec", tts_engine="")
    create_user(c, "supervisor01", "supervisor")
    create_user(c, "supervisor02", "supervisor")  # has no softphone
    create_user(c, "agent01", "agent", agent_id="agent01")
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    controller = c.services["call_controller"]
    registrar = f"127.0.0.1:{server.port}"
    app = create_app(c, manage_lifecycle=False)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    tokens = {}
    for user in ("supervisor01", "supervisor02", "agent01"):
        r = await http.post("/api/v1/session/login", json={"username": user, "password": PASSWORD})
        tokens[user] = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await http.put(
        "/api/v1/telephony/staff/supervisor01/sip-password",
        json={"password": "pw-supervisor01"},
        headers=tokens["supervisor01"],
    )
    assert r.status_code == 200 and r.json()["sip_user"] == "supervisor01", r.text
    phones = {
        name: BaresipAgent(
            tmp_path / name,
            user,
            password,
            registrar,
            tone_wav(tmp_path / f"{name}.wav", 60.0, freq_hz=hz),
            regint=regint,
        )
        for name, user, password, hz, regint in (
            ("caller", "13900000001", "x", CALLER_HZ, 0),
            ("agent", "agent01", "pw-agent01", AGENT_HZ, 300),
            ("supervisor", "supervisor01", "pw-supervisor01", SUPERVISOR_HZ, 300),
        )
    }
    for p in phones.values():
        await p.start()

    async def supervise(call_id: str, mode: str, user: str = "supervisor01") -> httpx.Response:
        return await http.post(
            f"/api/v1/desktop/calls/{call_id}/supervise",
            json={"mode": mode},
            headers=tokens[user],
            timeout=40,
        )

    async def stop(call_id: str, user: str = "supervisor01") -> httpx.Response:
        return await http.delete(
            f"/api/v1/desktop/calls/{call_id}/supervise", headers=tokens[user], timeout=40
        )

    async def marker() -> Any:
        r = await http.get("/api/v1/desktop/wallboard", headers=tokens["supervisor01"])
        (row,) = [a for a in r.json()["agents"] if a["agent_id"] == "agent01"]
        return row["supervision"]

    async def notice() -> Any:
        r = await http.get("/api/v1/desktop/me", headers=tokens["agent01"])
        return r.json()["supervision_notice"]

    hub = c.services["push_hub"]

    def pushed(topic: str, type_: str) -> list[dict[str, Any]]:
        return [m.data for m in hub.recent(topic, 500) if m.type == type_]

    def active() -> bool:
        return leg.supervision is not None and leg.supervision.machine.state.value == "active"

    try:
        assert await _wait_registered(c, "agent01", "supervisor01"), "phones did not register"
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        await phones["caller"].command("dial", f"sip:95588@{registrar}")
        leg = await _connected_leg(controller)
        assert leg is not None and leg.connected and leg.agent_id == "agent01"

        r = await supervise("no-such-call", "listen")
        assert r.status_code == 404 and r.json()["error"] == "call_not_found"
        r = await stop("no-such-call")
        assert r.status_code == 404 and r.json()["error"] == "call_not_found"
        r = await stop(leg.call_id)  # nothing to stop yet
        assert r.status_code == 409 and r.json()["error"] == "call_not_supervised", r.text
        r = await supervise(leg.call_id, "listen", "supervisor02")
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "supervisor_phone_not_registered"
        assert "未注册" in r.json()["detail"] and "not registered" in r.json()["detail"]

        r = await supervise(leg.call_id, "listen")  # answers at once; the phone rings
        assert r.status_code == 202 and r.json()["result"]["state"] == "ringing", r.text
        await eventually(active)
        t_listen = time.monotonic()
        sup_sip = leg.supervision.sip
        assert await marker() == {
            "call_id": leg.call_id,
            "supervisor": "supervisor01",
            "mode": "listen",
            "state": "active",
        }
        assert await notice() is None  # a silent listen-in is not shown to the agent
        assert [(d["state"], d["mode"]) for d in pushed(WALLBOARD, "supervision")] == [
            ("ringing", "listen"),
            ("active", "listen"),
        ]
        await asyncio.sleep(PHASE_S)
        r = await supervise(leg.call_id, "whisper")
        t_whisper = time.monotonic()
        assert r.status_code == 200 and r.json()["result"]["mode"] == "whisper", r.text
        assert leg.supervision.sip is sup_sip  # the same leg: no new INVITE
        r = await supervise(leg.call_id, "barge", "supervisor02")  # one supervisor at a time
        assert r.status_code == 409 and r.json()["error"] == "call_already_supervised"
        r = await stop(leg.call_id, "supervisor02")  # nor may another one stop it
        assert r.status_code == 409 and r.json()["error"] == "call_supervised_by_other"
        assert (await marker())["mode"] == "whisper"
        await eventually(lambda: bool(pushed(agent_topic("agent01"), "supervision.notice")))
        assert await notice() == {
            "call_id": leg.call_id,
            "supervisor": "supervisor01",
            "mode": "whisper",
        }
        await asyncio.sleep(PHASE_S)
        r = await supervise(leg.call_id, "barge")
        t_barge = time.monotonic()
        assert r.status_code == 200 and leg.supervision.sip is sup_sip, r.text
        await asyncio.sleep(PHASE_S)

        r = await stop(leg.call_id)  # 结束监听 from the browser: lendline sends BYE
        t_left = time.monotonic()
        assert r.status_code == 200 and r.json()["result"]["state"] == "ended", r.text
        assert leg.supervision is None
        await eventually(lambda: sup_sip.state.value == "terminated")
        assert leg.connected and leg.media.bridged_to is leg.agent_media  # call undisturbed
        assert leg.media.mixed_in == () and leg.agent_media.mixed_in == ()
        assert await marker() is None and await notice() is None
        r = await stop(leg.call_id)  # stopping twice: nothing to stop
        assert r.status_code == 409 and r.json()["error"] == "call_not_supervised"
        assert [
            d["notice"] and d["notice"]["mode"]
            for d in pushed(agent_topic("agent01"), "supervision.notice")
        ] == ["whisper", "barge", None]
        last = pushed(WALLBOARD, "supervision")[-1]
        assert (last["state"], last["reason"]) == ("ended", "stopped")
        await asyncio.sleep(PHASE_S)
        await phones["caller"].command("hangup")
        t_end = time.monotonic()
        await eventually(lambda: bool(controller.finished))
        center.flush()
        steps = center.get_call(leg.call_id).context["supervision"]
        assert [(s["event"], s["mode"], s.get("reason")) for s in steps] == [
            ("joined", "listen", None),
            ("mode", "whisper", None),
            ("mode", "barge", None),
            ("left", "barge", "stopped"),
        ]
        assert {s["supervisor"] for s in steps} == {"supervisor01"}
        audited = [
            (e.action, e.outcome)
            for e in c.services["audit"].search(actor="supervisor01")
            if e.action.startswith("supervise.")
        ]
        assert sorted(audited) == sorted(
            [
                ("supervise.stop", "call_not_supervised"),
                ("supervise.listen", "ok"),
                ("supervise.whisper", "ok"),
                ("supervise.barge", "ok"),
                ("supervise.stop", "ok"),
                ("supervise.stop", "call_not_supervised"),
            ]
        )
        recording = recorded_pcm(c, leg.recording_id, tmp_path / "rec")
    finally:
        for p in phones.values():
            await p.stop()
        await http.aclose()
        await c.stop()

    caller, agent, sup = (
        heard(phones["caller"]),
        heard(phones["agent"]),
        heard(phones["supervisor"]),
    )
    phases = {
        "listen": (t_listen, t_whisper),
        "whisper": (t_whisper, t_barge),
        "barge": (t_barge, t_left),
        "after": (t_left, t_end),
    }
    # who must (True) and must not (False) hear the supervisor's tone, per phase
    hears_supervisor = {
        "caller": {"listen": False, "whisper": False, "barge": True, "after": False},
        "agent": {"listen": False, "whisper": True, "barge": True, "after": False},
    }
    report = []
    for name, pcm, other_hz in (("caller", caller, AGENT_HZ), ("agent", agent, CALLER_HZ)):
        for phase, (start, stop) in phases.items():
            x = window(pcm, t_end, start, stop)
            sup_a, other_a = tone_amplitude(x, SUPERVISOR_HZ), tone_amplitude(x, other_hz)
            report.append(f"{name} {phase}: supervisor {sup_a:.0f}, other party {other_a:.0f}")
            assert other_a > 2000, report  # caller and agent always hear each other
            if hears_supervisor[name][phase]:
                assert sup_a > 2000, report
            else:
                assert sup_a < 400, report
    # the caller's recording: right = what the caller heard, so a barge is in it, a whisper not
    for phase, (start, stop) in phases.items():
        x = window(recording[:, 1], t_end, start, stop)
        sup_a = tone_amplitude(x, SUPERVISOR_HZ)
        report.append(f"recording {phase}: supervisor {sup_a:.0f}")
        assert (sup_a > 2000) if phase == "barge" else (sup_a < 400), report
        assert tone_amplitude(window(recording[:, 0], t_end, start, stop), CALLER_HZ) > 2000
    for phase in ("listen", "whisper", "barge"):  # the supervisor hears both, never itself
        start, stop = phases[phase]
        x = window(sup, t_left, start, stop)
        amps = [tone_amplitude(x, hz) for hz in (CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ)]
        report.append(f"supervisor {phase}: caller/agent/self {[round(a) for a in amps]}")
        assert amps[0] > 2000 and amps[1] > 2000 and amps[2] < 400, report
    print("\n".join(report))  # the figures docs/desktop.md refers to (pytest -s)


async def test_stop_no_answer_hang_up_and_the_call_ending(tmp_path: Path, sqlite_url: str) -> None:
    """A ringing supervisor phone stopped from the browser is CANCELled; one that does not
    answer is CANCELled and the outcome pushed (``not_answered``); a supervisor hanging up
    leaves the call as it was; the caller hanging up while a supervisor listens makes
    lendline hang the supervisor up (BYE). The record and the pushes say each step."""
    c = _sip_container(tmp_path, sqlite_url, tts_engine="")
    for user in ("supervisor01", "supervisor02"):
        create_user(c, user, "supervisor")
        c.services["sip_credentials"].set_staff_password(user, f"pw-{user}")
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    controller = c.services["call_controller"]
    registrar = f"127.0.0.1:{server.port}"
    phones = [
        BaresipAgent(
            tmp_path / n, u, pw, registrar, tone_wav(tmp_path / f"{n}.wav", 30.0), regint=ri
        )
        for n, u, pw, ri in (
            ("caller", "13900000001", "x", 0),
            ("agent", "agent01", "pw-agent01", 300),
            ("supervisor", "supervisor01", "pw-supervisor01", 300),
        )
    ]
    phones.append(
        BaresipAgent(
            tmp_path / "busy",
            "supervisor02",
            "pw-supervisor02",
            registrar,
            tone_wav(tmp_path / "busy.wav", 30.0),
            answermode="manual",
        )
    )
    for p in phones:
        await p.start()
    try:
        assert await _wait_registered(c, "agent01", "supervisor01", "supervisor02")
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        await phones[0].command("dial", f"sip:95588@{registrar}")
        leg = await _connected_leg(controller)
        assert leg is not None and leg.connected
        supervision = c.services["media_supervision"]
        supervision.answer_timeout_s = 2.0
        hub = c.services["push_hub"]
        rung_phones: list[Any] = []
        ring_phone = controller.ring_phone

        async def ring_and_note(*args: Any, **kwargs: Any) -> Any:  # observe our INVITEs
            rung = await ring_phone(*args, **kwargs)
            rung_phones.append(rung[0])
            return rung

        def outcomes() -> list[tuple[str, str, str]]:  # the wallboard socket's "supervision"
            return [
                (m.data["supervisor"], m.data["state"], m.data["reason"])
                for m in hub.recent(WALLBOARD, 500)
                if m.type == "supervision"
            ]

        async def supervise(user: str, mode: str = "listen") -> dict[str, Any]:
            return await asyncio.to_thread(
                supervision.supervise, leg.call_id, supervisor=user, mode=mode
            )

        controller.ring_phone = ring_and_note
        # stopped while the phone still rings: the INVITE is CANCELled
        out = await supervise("supervisor02")
        assert out["state"] == "ringing"
        out = await asyncio.to_thread(supervision.stop, leg.call_id, supervisor="supervisor02")
        assert out["state"] == "ended"
        assert leg.supervision is None and not controller.by_supervisor_leg
        await eventually(lambda: rung_phones[0].state.value == "terminated")
        # not answered: the request has long returned; the outcome is pushed
        out = await supervise("supervisor02")
        assert out["state"] == "ringing"
        await eventually(lambda: ("supervisor02", "ended", "not_answered") in outcomes())
        assert leg.supervision is None and not controller.by_supervisor_leg
        await eventually(lambda: rung_phones[1].state.value == "terminated")
        assert outcomes() == [
            ("supervisor02", "ringing", ""),
            ("supervisor02", "ended", "stopped"),
            ("supervisor02", "ringing", ""),
            ("supervisor02", "ended", "not_answered"),
        ]
        # the supervisor hangs up the phone: the leg goes, the call stays
        await supervise("supervisor01")
        await eventually(lambda: ("supervisor01", "active", "") in outcomes())
        first = leg.supervision
        await phones[2].command("hangup")
        await eventually(lambda: leg.supervision is None)
        assert outcomes()[-1] == ("supervisor01", "ended", "supervisor_hung_up")
        await eventually(lambda: first.media.closed)
        assert leg.connected and leg.media.bridged_to is leg.agent_media
        # and listens again; then the caller hangs up: lendline hangs up the supervisor
        await supervise("supervisor01")
        await eventually(lambda: outcomes()[-1] == ("supervisor01", "active", ""))
        sup = leg.supervision
        assert sup is not first
        await phones[0].command("hangup")
        await eventually(lambda: sup.sip.state.value == "terminated")
        await eventually(lambda: sup.media.closed)
        assert leg.supervision is None and not controller.by_supervisor_leg
        assert outcomes()[-1] == ("supervisor01", "ended", "call_ended")
        await eventually(lambda: bool(controller.finished))
        center.flush()
        steps = center.get_call(leg.call_id).context["supervision"]
        assert [(s["supervisor"], s["event"], s.get("reason")) for s in steps] == [
            ("supervisor02", "not_answered", None),
            ("supervisor01", "joined", None),
            ("supervisor01", "left", "supervisor_hung_up"),
            ("supervisor01", "joined", None),
            ("supervisor01", "left", "call_ended"),
        ]
        # the call is over: supervising or stopping it now is a clear 409, not a hang
        with pytest.raises(Conflict) as exc:
            await supervise("supervisor01", "barge")
        assert exc.value.code == "call_not_on_sip"
        with pytest.raises(Conflict) as exc:
            await asyncio.to_thread(supervision.stop, leg.call_id, supervisor="supervisor01")
        assert exc.value.code == "call_not_supervised"
    finally:
        for p in phones:
            await p.stop()
        await c.stop()
