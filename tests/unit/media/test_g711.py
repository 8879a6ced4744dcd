from __future__ import annotations

import numpy as np
import pytest

from lendline.telephony.rtp import g711


def test_known_code_points() -> None:
    # ITU-T G.711: zero encodes to 0xFF (μ-law) and 0xD5 (A-law); full scale to 0x80/0x00 and 0xAA/0x2A
    zero = np.zeros(1, dtype=np.int16)
    assert g711.encode(zero, "PCMU") == b"\xff"
    assert g711.encode(zero, "PCMA") == b"\xd5"
    full = np.array([32767, -32768], dtype=np.int16)
    assert g711.encode(full, "PCMU") == b"\x80\x00"
    assert g711.encode(full, "PCMA") == b"\xaa\x2a"
    assert list(g711.decode(b"\x80\x00", "PCMU")) == [32124, -32124]
    assert list(g711.decode(b"\xaa\x2a", "PCMA")) == [32256, -32256]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_roundtrip_error_is_within_the_segment_step(codec: g711.Codec) -> None:
    x = np.arange(-32768, 32768, 3, dtype=np.int16)
    y = g711.decode(g711.encode(x, codec), codec).astype(np.int64)
    xi = x.astype(np.int64)
    err = np.abs(y - xi)
    # logarithmic companding: relative error under ~6.5 % above the smallest segments
    big = np.abs(xi) > 256
    assert (err[big] / np.abs(xi[big])).max() < 0.065
    assert err[~big].max() <= 16


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_decode_encode_is_identity_on_codes(codec: g711.Codec) -> None:
    codes = bytes(range(256))
    again = g711.encode(g711.decode(codes, codec), codec)
    # every code survives, except μ-law's two zeros (0x7F and 0xFF both decode to 0)
    diff = [c for c, d in zip(codes, again, strict=True) if c != d]
    assert diff == ([0x7F] if codec == "PCMU" else [])


def test_payload_types() -> None:
    assert g711.codec_for_payload_type(0) == "PCMU"
    assert g711.codec_for_payload_type(8) == "PCMA"
    with pytest.raises(ValueError):
        g711.codec_for_payload_type(18)
