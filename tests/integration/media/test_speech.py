"""TTS with espeak-ng (Mandarin through pinyin) and ASR with pocketsphinx's bundled model."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lendline.errors import ConfigError
from lendline.speech.asr import build_asr
from lendline.speech.tts import EspeakTts, build_tts
from lendline.telephony.rtp import g711

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


def _phonemes(voice: str, text: str) -> str:
    out = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", voice, "--", text],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@needs_espeak
def test_mandarin_prompt_is_spoken_as_mandarin_not_english_pinyin(tmp_path: Path) -> None:
    tts = EspeakTts(tmp_path)
    text = "您前面还有3位客户，预计等待约1分钟"
    fed = tts.engine_text(text, "zh")
    spoken = _phonemes("cmn-latn-pinyin", fed)
    naive = _phonemes("cmn", text)
    assert "(en)" in naive  # the plain cmn voice switches to English for pinyin-with-digits
    assert "(en)" not in spoken  # ours stays in Mandarin …
    for contour in ("35", "21", "51", "55"):  # … with the four tone contours (3rd as 21 in sandhi)
        assert contour in spoken
    pcm = tts.synthesize(text, "zh")
    seconds = len(pcm) / 8000
    rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))
    assert 1.5 < seconds < 8 and rms > 1000  # speech, not silence
    assert int(np.abs(pcm.astype(np.int32)).max()) <= 23300  # normalised to -3 dBFS


@needs_espeak
def test_tts_cache_by_text_hash(tmp_path: Path) -> None:
    tts = EspeakTts(tmp_path)
    first = tts.synthesize("还款请按2", "zh")
    cached = tts.cache_path("还款请按2", "zh")
    assert cached is not None and cached.is_file()
    stamp = cached.stat().st_mtime_ns
    again = EspeakTts(tmp_path, binary="no-such-espeak").synthesize("还款请按2", "zh")
    assert np.array_equal(first, again) and cached.stat().st_mtime_ns == stamp
    assert tts.cache_path("还款请按2", "en") != cached
    with pytest.raises(ConfigError):
        EspeakTts(tmp_path, binary="no-such-espeak").synthesize("新的文字", "zh")
    with pytest.raises(ConfigError):
        build_tts("festival", tmp_path)


def test_no_asr_configured_means_none_and_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    assert build_asr("") is None
    with pytest.raises(ConfigError) as e:
        build_asr("vosk", model_path=tmp_path / "nope")
    assert e.value.code == "asr_model_missing"
    with pytest.raises(ConfigError):
        build_asr("funasr")
    with pytest.raises(ConfigError):
        build_asr("whisper-cloud")


def _telephone_speech(tmp_path: Path, text: str) -> np.ndarray:
    tts = EspeakTts(tmp_path)
    pcm = tts.synthesize(text, "en")
    pcm = g711.decode(g711.encode(pcm, "PCMU"), "PCMU")  # as it arrives over the phone
    pad = np.zeros(2400, dtype=np.int16)
    return np.concatenate([pad, pcm, pad])


@needs_espeak
@pytest.mark.parametrize(
    ("spoken", "expected"),
    [("yes", "yes"), ("one two three four", "one two three four"), ("speak to an agent", "agent")],
)
async def test_pocketsphinx_recognises_english_over_g711(
    tmp_path: Path, spoken: str, expected: str
) -> None:
    pytest.importorskip("pocketsphinx")
    from lendline.telephony.media.ivr_runner import ENGLISH_PHRASES

    asr = build_asr("pocketsphinx")
    assert asr is not None and asr.supports("en") and not asr.supports("zh")
    audio = _telephone_speech(tmp_path, spoken)
    stream = asr.open_stream(lang="en", phrases=ENGLISH_PHRASES)
    for i in range(0, len(audio), 160):
        await asyncio.wait_for(stream.feed(audio[i : i + 160]), 5)
    result = await asyncio.wait_for(stream.finish(), 10)
    assert result.final
    words = iter(result.text.split())
    # every expected word, in order (a spurious extra digit may slip in between)
    assert all(w in words for w in expected.split()), result.text
