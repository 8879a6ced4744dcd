"""Commands of the media feature: ``lendline bench media``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

JITTER_TARGET_MS = 10.0


def bench_media(
    calls: int = typer.Option(200, help="concurrent calls playing audio"),
    seconds: float = typer.Option(10.0, help="how long each call plays, seconds"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    nice: int = typer.Option(0, help="process niceness for the run (negative needs privilege)"),
    realtime: bool = typer.Option(
        False,
        "--realtime",
        help="run with SCHED_RR priority 10, as a media server is deployed (systemd "
        "CPUSchedulingPolicy=rr, or chrt -r 10); needs CAP_SYS_NICE",
    ),
) -> None:
    """N concurrent calls play audio; the receiver measures jitter and loss (target: ≥ 200
    calls, p99 jitter ≤ 10 ms, no loss)."""
    import os

    from lendline.telephony.media.loadtest import run_media_bench
    from lendline.telephony.media.scheduler import request_realtime

    if nice:
        os.nice(nice)
    if realtime and not request_realtime(10):
        raise typer.BadParameter("--realtime needs CAP_SYS_NICE (root)")
    result = asyncio.run(run_media_bench(calls, seconds))
    # The target: >= 200 calls, p99 (over streams) of the RFC 3550 interarrival jitter
    # <= 10 ms, no loss. The stricter per-packet |interarrival - 20 ms| p99 is printed
    # beside it and judged separately, so neither figure hides the other.
    result.target_met = (
        calls >= 200
        and result.rfc3550_jitter_p99_ms <= JITTER_TARGET_MS
        and result.packets_lost == 0
        and result.scheduler_skipped_frames == 0  # a frame never sent is audio lost too
    )
    result.per_packet_p99_within_target = result.interarrival_dev_p99_ms <= JITTER_TARGET_MS
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    table = Table(title=f"lendline bench media — {calls} calls × {seconds:g} s")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.as_dict().items():
        table.add_row(key, str(value))
    Console().print(table)


def prompts(
    out: Path = typer.Option(Path("var/prompts"), help="folder for the WAV files"),
    lang: str = typer.Option("zh", help="zh | en"),
) -> None:
    """Synthesise every IVR prompt, sample wait announcements and the music on hold as
    8 kHz WAVs, and print each one's length and level — listen before you ship."""
    import numpy as np

    from lendline.settings import load_settings
    from lendline.speech.tts import build_tts
    from lendline.telephony.ivr import PROMPTS
    from lendline.telephony.media.announce import format_wait_announcement
    from lendline.telephony.media.hold import render_music_loop
    from lendline.telephony.media.sources import save_wav

    settings = load_settings()
    tts = build_tts(settings.tts_engine, settings.data_dir / "tts")
    texts = dict(PROMPTS["zh" if lang.startswith("zh") else "en"])
    for pos, ewt in ((3, 60), (1, 30), (8, 250)):
        texts[f"wait_{pos}_{ewt}s"] = format_wait_announcement(pos, ewt, lang)
    table = Table(title=f"prompts ({lang}) → {out}")
    for col in ("name", "seconds", "rms dBFS", "text"):
        table.add_column(col)
    audio = {name: tts.synthesize(text, lang) for name, text in texts.items()}
    audio["music_on_hold"] = render_music_loop()
    for name, pcm in audio.items():
        save_wav(out / f"{name}.wav", pcm)
        rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) / 32768 or 1e-9
        table.add_row(
            name, f"{len(pcm) / 8000:.2f}", f"{20 * np.log10(rms):.1f}", texts.get(name, "")
        )
    Console().print(table)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``lendline media …`` and the media benchmark to ``bench``."""
    media = typer.Typer(help="Media and speech: prompts, music on hold.", no_args_is_help=True)
    media.command("prompts")(prompts)
    app.add_typer(media, name="media")
    bench.command("media")(bench_media)
