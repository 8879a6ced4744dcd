from __future__ import annotations

import pytest

from lendline.telephony.sip.digest import DigestChallenger, authorization, ha1
from lendline.telephony.sip.message import Request
from lendline.telephony.sip.parser import parse_message
from lendline.telephony.sip.registrar import Registrar
from lendline.telephony.sip.sdp import SdpNotAcceptable, answer_offer, parse_sdp

REALM = "lendline.local"


class Creds:
    def ha1(self, user: str) -> dict[str, str | None]:
        if user != "agent01":
            return {}
        return {a: ha1(a, user, REALM, "pw-01") for a in ("MD5", "SHA-256")}


def _register(auth: str | None = None, expires: str = "300") -> Request:
    raw = (
        "REGISTER sip:lendline.local SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKr1\r\n"
        "From: <sip:agent01@lendline.local>;tag=r\r\nTo: <sip:agent01@lendline.local>\r\n"
        "Call-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:agent01@10.0.0.5:5062>\r\n"
        f"Expires: {expires}\r\n" + (f"Authorization: {auth}\r\n" if auth else "") + "\r\n"
    )
    msg = parse_message(raw.encode())
    assert isinstance(msg, Request)
    return msg


@pytest.mark.parametrize("algorithm_index", [0, 1])
def test_register_sha256_and_md5(algorithm_index: int) -> None:
    reg = Registrar(Creds(), DigestChallenger(REALM))
    status, _, headers = reg.handle(_register(), ("10.0.0.5", 5062), "udp", 100.0)
    assert status == 401
    challenges = headers["www-authenticate"]
    assert isinstance(challenges, list) and "SHA-256" in challenges[0] and "MD5" in challenges[1]
    auth = authorization(
        challenges[algorithm_index], "REGISTER", "sip:lendline.local", "agent01", "pw-01"
    )
    status, _, headers = reg.handle(_register(auth), ("10.0.0.5", 5062), "udp", 101.0)
    assert status == 200 and "expires=300" in str(headers["contact"])
    (b,) = reg.lookup("agent01", 102.0)
    assert b.source == ("10.0.0.5", 5062)
    assert reg.lookup("agent01", 500.0) == []  # expired


def test_wrong_password_stale_nonce_and_short_expiry() -> None:
    ch = DigestChallenger(REALM, nonce_ttl_s=60)
    reg = Registrar(Creds(), ch)
    chal = ch.challenge(0.0)[0]
    bad = authorization(chal, "REGISTER", "sip:lendline.local", "agent01", "guess")
    assert reg.handle(_register(bad), ("10.0.0.5", 5062), "udp", 1.0)[0] == 403
    good = authorization(chal, "REGISTER", "sip:lendline.local", "agent01", "pw-01")
    status, _, headers = reg.handle(_register(good), ("10.0.0.5", 5062), "udp", 120.0)
    assert status == 401 and "stale=true" in headers["www-authenticate"][0]
    fresh = authorization(
        ch.challenge(130.0)[0], "REGISTER", "sip:lendline.local", "agent01", "pw-01"
    )
    assert reg.handle(_register(fresh, expires="10"), ("10.0.0.5", 5062), "udp", 131.0)[0] == 423
    forged = good.replace(good.split('nonce="')[1].split('"')[0], "1.0:deadbeef")
    assert reg.handle(_register(forged), ("10.0.0.5", 5062), "udp", 2.0)[0] == 403


OFFER = (
    "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "m=audio 4000 RTP/AVP 18 8 0 101\r\na=rtpmap:18 G729/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=sendonly\r\n"
)


def test_sdp_answer_picks_first_g711_declines_video_and_mirrors_direction() -> None:
    answer, audio = answer_offer(parse_sdp(OFFER.encode()), "10.0.0.2", 30000, session_id=7)
    assert (audio.codec, audio.payload_type, audio.dtmf_payload_type) == ("PCMA", 8, 101)
    assert audio.direction == "recvonly" and audio.on_hold
    text = answer.to_bytes().decode()
    assert "m=video 0 RTP/AVP 96" in text and "m=audio 30000 RTP/AVP 8 101" in text
    assert "a=ptime:20" in text and "a=recvonly" in text


def test_sdp_without_g711_is_488() -> None:
    with pytest.raises(SdpNotAcceptable) as ei:
        answer_offer(parse_sdp(OFFER.replace(" 8 0 101", "").encode()), "h", 1, session_id=1)
    assert ei.value.status == 488
