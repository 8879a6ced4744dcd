from __future__ import annotations

import numpy as np
import pytest

from lendline.speech.pinyin import numbers_to_hanzi, to_pinyin
from lendline.telephony.media.announce import format_wait_announcement
from lendline.telephony.media.hold import MusicOnHold, render_music_loop
from lendline.telephony.media.sources import PcmSource, SequenceSource, ToneSource
from lendline.telephony.rtp.resample import resample


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(spec.argmax())])


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_resample_keeps_pitch_and_length(rate: int) -> None:
    t = np.arange(rate) / rate
    tone = (10000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    out = resample(tone, rate, 8000)
    assert len(out) == 8000
    assert _peak_hz(out, 8000) == pytest.approx(1000, abs=2)


def test_resample_removes_what_8k_cannot_carry() -> None:
    rate = 22050
    t = np.arange(rate) / rate
    high = (10000 * np.sin(2 * np.pi * 6000 * t)).astype(np.int16)  # would alias to 2 kHz
    out = resample(high, rate, 8000).astype(np.float64)
    assert np.sqrt(np.mean(out[200:-200] ** 2)) < 10000 / np.sqrt(2) * 0.05


@pytest.mark.parametrize(
    ("position", "ewt_s", "zh", "en"),
    [
        (
            3,
            60,
            "您前面还有3位客户，预计等待约1分钟",
            "There are 3 callers ahead of you; the estimated wait is about 1 minute.",
        ),
        (
            3,
            45,
            "您前面还有3位客户，预计等待不到1分钟",
            "There are 3 callers ahead of you; the estimated wait is less than a minute.",
        ),
        (
            1,
            89,
            "您前面还有1位客户，预计等待约1分钟",
            "There is 1 caller ahead of you; the estimated wait is about 1 minute.",
        ),
        (
            7,
            90,
            "您前面还有7位客户，预计等待约2分钟",
            "There are 7 callers ahead of you; the estimated wait is about 2 minutes.",
        ),
        (
            0,
            10,
            "您是下一位，预计等待不到1分钟",
            "You are next; the estimated wait is less than a minute.",
        ),
        (
            40,
            4000,
            "您前面还有40位客户，预计等待超过1小时",
            "There are 40 callers ahead of you; the estimated wait is more than an hour.",
        ),
    ],
)
def test_wait_announcement(position: int, ewt_s: float, zh: str, en: str) -> None:
    assert format_wait_announcement(position, ewt_s) == zh
    assert format_wait_announcement(position, ewt_s, "en") == en


def test_numbers_and_pinyin_for_the_mandarin_voice() -> None:
    assert numbers_to_hanzi("按1，约12分钟，第20位") == "按一，约十二分钟，第二十位"
    assert numbers_to_hanzi("110105") == "幺幺零幺零五"
    assert to_pinyin("您好，还款请按2。") == "nin2 hao3, huan2 kuan3 qing3 an4 er4."
    assert to_pinyin("您前面还有3位客户") == "nin2 qian2 mian4 hai2 you3 san1 wei4 ke4 hu4"


def test_music_on_hold_loops_seamlessly_and_is_not_silent() -> None:
    loop = render_music_loop()
    moh = MusicOnHold()
    chunks = [moh.read(160) for _ in range(len(loop) // 160 * 2 + 3)]
    assert all(len(c) == 160 for c in chunks)
    audio = np.concatenate(chunks).astype(np.float64)
    assert 0.02 < np.sqrt(np.mean(audio**2)) / 32768 < 0.3
    assert abs(loop[-1].astype(int) - loop[0].astype(int)) < 3000  # no click at the seam


def test_sources() -> None:
    seq = SequenceSource([PcmSource(np.ones(100, dtype=np.int16)), ToneSource(440, 0.01)])
    got = [seq.read(60) for _ in range(5)]
    assert [len(c) for c in got if c is not None] == [60, 40, 60, 20]
    assert got[-1] is None


def test_the_tts_loads_its_pinyin_table_when_built_not_at_the_first_prompt() -> None:
    """pypinyin's phrase table takes ~0.6 s to load, holding the GIL: built lazily it
    starved the SIP loop during the first call. A fresh interpreter shows it loaded by
    building the engine, before any text is spoken."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lendline.speech.tts import EspeakTts\n"
        "assert 'pypinyin.phrases_dict' not in sys.modules\n"
        "EspeakTts(None)\n"
        "print('pypinyin.phrases_dict' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "True"
