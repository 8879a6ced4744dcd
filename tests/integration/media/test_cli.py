"""The media commands run end to end (figures are not asserted: benchmarks report them)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lendline.cli import app


def test_bench_media_small_run_reports_figures() -> None:
    result = CliRunner().invoke(app, ["bench", "media", "--calls", "4", "--seconds", "1", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["calls"] == 4 and figures["packets_sent"] > 150
    assert figures["packets_received"] + figures["packets_lost"] >= figures["packets_sent"]
    assert figures["target_met"] is False  # 4 calls cannot meet a 200-call target
    for key in ("rfc3550_jitter_p99_ms", "interarrival_dev_p99_ms", "cpu_percent"):
        assert figures[key] >= 0


def test_media_prompts_writes_measurable_wavs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LENDLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LENDLINE_TTS_ENGINE", "tone")  # no espeak needed for the command itself
    result = CliRunner().invoke(app, ["media", "prompts", "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    names = {p.stem for p in (tmp_path / "p").glob("*.wav")}
    assert {"welcome", "menu", "id_invalid", "wait_3_60s", "music_on_hold"} <= names
    with wave.open(str(tmp_path / "p" / "music_on_hold.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (8000, 1, 96000)
