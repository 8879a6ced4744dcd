"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for one audio stream.

We serve G.711 (PCMU 0, PCMA 8) with RFC 4733 telephone-event, ptime 20 ms.
``answer_offer`` picks the first offered codec we support (the offerer's preference order)
and raises ``SdpNotAcceptable`` (→ 488) when no audio stream can be served; every other
stream is declined with port 0, as RFC 3264 §6 requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lendline.errors import RemoteProtocolError

CODECS = {"PCMU": 0, "PCMA": 8}  # encoding name -> static payload type
STATIC = {0: "PCMU", 8: "PCMA"}
DTMF_PT = 101
PTIME_MS = 20
_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly"}


class SdpNotAcceptable(RemoteProtocolError):
    """The offer has no stream we can serve: answer 488 with this reason."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, status=488)


@dataclass(slots=True)
class Media:
    """One ``m=`` section."""

    kind: str
    port: int
    proto: str
    formats: list[str]
    connection: str | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def attr(self, name: str) -> list[str]:
        return [v or "" for k, v in self.attributes if k == name]

    @property
    def direction(self) -> str:
        for k, _ in self.attributes:
            if k in _DIRECTIONS:
                return k
        return "sendrecv"

    def rtpmap(self) -> dict[int, tuple[str, int]]:
        """payload type → (encoding name upper-case, clock rate Hz), static types included."""
        out: dict[int, tuple[str, int]] = {}
        for f in self.formats:
            if f.isdigit() and int(f) in STATIC:
                out[int(f)] = (STATIC[int(f)], 8000)
        for v in self.attr("rtpmap"):
            pt, _, enc = v.partition(" ")
            name, _, rest = enc.partition("/")
            rate = rest.split("/")[0]
            if pt.isdigit() and rate.isdigit():
                out[int(pt)] = (name.upper(), int(rate))
        return out


@dataclass(slots=True)
class SessionDescription:
    origin: str = "lendline 0 0 IN IP4 127.0.0.1"
    name: str = "-"
    connection: str | None = None  # session-level c= address
    media: list[Media] = field(default_factory=list)
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        lines = ["v=0", f"o={self.origin}", f"s={self.name}"]
        if self.connection:
            lines.append(f"c=IN {_ip_kind(self.connection)} {self.connection}")
        lines.append("t=0 0")
        lines += [f"a={k}" if v is None else f"a={k}:{v}" for k, v in self.attributes]
        for m in self.media:
            lines.append(f"m={m.kind} {m.port} {m.proto} {' '.join(m.formats)}")
            if m.connection:
                lines.append(f"c=IN {_ip_kind(m.connection)} {m.connection}")
            lines += [f"a={k}" if v is None else f"a={k}:{v}" for k, v in m.attributes]
        return ("\r\n".join(lines) + "\r\n").encode()


def _ip_kind(addr: str) -> str:
    return "IP6" if ":" in addr else "IP4"


def parse_sdp(data: bytes) -> SessionDescription:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteProtocolError("SDP is not UTF-8") from None
    sd = SessionDescription()
    current: Media | None = None
    seen_v = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise RemoteProtocolError(f"bad SDP line {line[:40]!r}")
        kind, value = line[0], line[2:]
        if kind == "v":
            seen_v = True
        elif kind == "o":
            sd.origin = value
        elif kind == "s":
            sd.name = value
        elif kind == "c":
            parts = value.split()
            if len(parts) != 3 or parts[0] != "IN":
                raise RemoteProtocolError(f"bad SDP connection {value!r}")
            addr = parts[2].split("/")[0]
            if current is None:
                sd.connection = addr
            else:
                current.connection = addr
        elif kind == "m":
            parts = value.split()
            if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
                raise RemoteProtocolError(f"bad SDP media line {value!r}")
            current = Media(parts[0], int(parts[1].split("/")[0]), parts[2], parts[3:])
            sd.media.append(current)
        elif kind == "a":
            name, colon, v = value.partition(":")
            target = current.attributes if current is not None else sd.attributes
            target.append((name, v if colon else None))
    if not seen_v:
        raise RemoteProtocolError("SDP without v= line")
    return sd


@dataclass(frozen=True, slots=True)
class NegotiatedAudio:
    """The outcome of offer/answer: where to send RTP and with which payload types."""

    remote_host: str
    remote_port: int
    payload_type: int
    codec: str  # PCMU | PCMA
    dtmf_payload_type: int | None
    direction: str  # our direction: sendrecv, sendonly (peer holds us? no: we hold) …
    ptime_ms: int = PTIME_MS

    @property
    def on_hold(self) -> bool:
        """True when the peer put the call on hold (it will not send us media)."""
        return self.direction in ("recvonly", "inactive") or self.remote_host in ("0.0.0.0", "::")


def make_offer(
    host: str, port: int, *, session_id: int, version: int = 0, direction: str = "sendrecv"
) -> SessionDescription:
    """Our offer: PCMU, PCMA and telephone-event 0-16, ptime 20."""
    attrs: list[tuple[str, str | None]] = [
        ("rtpmap", "0 PCMU/8000"),
        ("rtpmap", "8 PCMA/8000"),
        ("rtpmap", f"{DTMF_PT} telephone-event/8000"),
        ("fmtp", f"{DTMF_PT} 0-16"),
        ("ptime", str(PTIME_MS)),
        (direction, None),
    ]
    return SessionDescription(
        origin=f"lendline {session_id} {version} IN {_ip_kind(host)} {host}",
        connection=host,
        media=[Media("audio", port, "RTP/AVP", ["0", "8", str(DTMF_PT)], attributes=attrs)],
    )


def answer_offer(
    offer: SessionDescription, host: str, port: int, *, session_id: int, version: int = 0
) -> tuple[SessionDescription, NegotiatedAudio]:
    """RFC 3264 §6 answer to ``offer``; raises ``SdpNotAcceptable`` if nothing can be served."""
    answer = SessionDescription(
        origin=f"lendline {session_id} {version} IN {_ip_kind(host)} {host}", connection=host
    )
    chosen: NegotiatedAudio | None = None
    for m in offer.media:
        rtpmap = m.rtpmap()
        codec_pt = next(
            (
                int(f)
                for f in m.formats
                if f.isdigit() and rtpmap.get(int(f), ("", 0)) in (("PCMU", 8000), ("PCMA", 8000))
            ),
            None,
        )
        usable = chosen is None and m.kind == "audio" and m.proto.upper() in ("RTP/AVP",)
        if not usable or codec_pt is None or m.port == 0:
            answer.media.append(Media(m.kind, 0, m.proto, m.formats[:1]))
            continue
        dtmf = next(
            (pt for pt, (n, r) in rtpmap.items() if n == "TELEPHONE-EVENT" and r == 8000), None
        )
        remote_dir = m.direction
        ours = _MIRROR.get(remote_dir, "inactive")
        formats = [str(codec_pt)] + ([str(dtmf)] if dtmf is not None else [])
        attrs: list[tuple[str, str | None]] = [("rtpmap", f"{codec_pt} {rtpmap[codec_pt][0]}/8000")]
        if dtmf is not None:
            attrs += [("rtpmap", f"{dtmf} telephone-event/8000"), ("fmtp", f"{dtmf} 0-16")]
        attrs += [("ptime", str(PTIME_MS)), (ours, None)]
        answer.media.append(Media("audio", port, m.proto, formats, attributes=attrs))
        remote_host = m.connection or offer.connection
        if not remote_host:
            raise RemoteProtocolError("SDP audio stream without a connection address")
        chosen = NegotiatedAudio(remote_host, m.port, codec_pt, rtpmap[codec_pt][0], dtmf, ours)
    if chosen is None:
        raise SdpNotAcceptable("no audio stream with PCMU or PCMA over RTP/AVP")
    return answer, chosen


def read_answer(answer: SessionDescription) -> NegotiatedAudio:
    """What the peer chose in its answer to our offer."""
    for m in answer.media:
        if m.kind != "audio" or m.port == 0:
            continue
        rtpmap = m.rtpmap()
        for f in m.formats:
            if f.isdigit() and rtpmap.get(int(f), ("", 0))[0] in CODECS:
                dtmf = next((p for p, (n, _) in rtpmap.items() if n == "TELEPHONE-EVENT"), None)
                host = m.connection or answer.connection
                if not host:
                    break
                return NegotiatedAudio(
                    host,
                    m.port,
                    int(f),
                    rtpmap[int(f)][0],
                    dtmf,
                    _MIRROR.get(m.direction, "inactive"),
                )
    raise SdpNotAcceptable("the answer has no usable audio stream")
