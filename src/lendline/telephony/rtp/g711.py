"""G.711 μ-law (PCMU, PT 0) and A-law (PCMA, PT 8) with numpy lookup tables.

Decoding is a 256-entry table; encoding is a 65536-entry table indexed by the 16-bit sample,
built once from the ITU-T G.711 segment rules. Samples are int16, 8000 Hz.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
Codec = Literal["PCMU", "PCMA"]

PAYLOAD_TYPES: dict[Codec, int] = {"PCMU": 0, "PCMA": 8}
_BIAS = 0x84


def _ulaw_encode_scalar(sample: int) -> int:
    # 14-bit magnitude, biased by 33, segment = position of the highest set bit.
    value = sample >> 2
    mask = 0x7F if value < 0 else 0xFF
    value = min(-value if value < 0 else value, 8159) + 0x21
    segment = max(0, value.bit_length() - 6)
    if segment > 7:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_decode_scalar(byte: int) -> int:
    u = ~byte & 0xFF
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return -mag if sign else mag


def _alaw_encode_scalar(sample: int) -> int:
    # A-law works on 13-bit magnitudes; the sign bit set means positive.
    sign = 0x80 if sample >= 0 else 0
    mag = sample if sample >= 0 else -sample - 1
    mag = min(mag, 32767) >> 3
    if mag < 32:
        code = mag >> 1
    else:
        exponent = mag.bit_length() - 5
        code = (exponent << 4) | ((mag >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def _alaw_decode_scalar(byte: int) -> int:
    a = byte ^ 0x55
    sign, exponent, mantissa = a & 0x80, (a >> 4) & 0x07, a & 0x0F
    step = (mantissa << 4) + (8 if exponent == 0 else 0x108)
    mag = step << (exponent - 1) if exponent else step
    return mag if sign else -mag


_ULAW_DEC = np.array([_ulaw_decode_scalar(i) for i in range(256)], dtype=np.int16)
_ALAW_DEC = np.array([_alaw_decode_scalar(i) for i in range(256)], dtype=np.int16)
_ALL = range(-32768, 32768)
_ULAW_ENC = np.array([_ulaw_encode_scalar(s) for s in _ALL], dtype=np.uint8)
_ALAW_ENC = np.array([_alaw_encode_scalar(s) for s in _ALL], dtype=np.uint8)


def encode(pcm: Int16Array, codec: Codec) -> bytes:
    """int16 samples → G.711 bytes (one byte per sample)."""
    table = _ULAW_ENC if codec == "PCMU" else _ALAW_ENC
    idx = pcm.astype(np.int32) + 32768
    return bytes(table[idx].tobytes())


def decode(data: bytes, codec: Codec) -> Int16Array:
    """G.711 bytes → int16 samples."""
    table = _ULAW_DEC if codec == "PCMU" else _ALAW_DEC
    out: Int16Array = table[np.frombuffer(data, dtype=np.uint8)]
    return out


def codec_for_payload_type(pt: int) -> Codec:
    """The codec of a static payload type; ``ValueError`` if it is not G.711."""
    for name, value in PAYLOAD_TYPES.items():
        if value == pt:
            return name
    raise ValueError(f"payload type {pt} is not G.711")


def silence_byte(codec: Codec) -> int:
    """The byte that decodes to (near) zero: 0xFF for μ-law, 0xD5 for A-law."""
    return 0xFF if codec == "PCMU" else 0xD5
