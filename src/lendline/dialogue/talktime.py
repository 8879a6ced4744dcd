"""Simulated talk time of a conversation: what the bot says plus what the caller says.

Bot seconds come from a ``tts_seconds(text, lang)`` function — the real espeak-ng
duration in ``lendline bench dialogue``, or ``TTS_CHARS_PER_S`` when espeak-ng is absent
(measured once from espeak-ng on the shipped prompts; see docs/dialogue.md). Caller seconds
use a documented speaking rate: Mandarin ``CALLER_CHARS_PER_S`` characters a second, English
``CALLER_WORDS_PER_S`` words a second, plus ``CALLER_REACTION_S`` before each turn; a DTMF
key takes ``DTMF_KEY_S``; a silent turn costs the no-input timeout ``NO_INPUT_S``.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CALLER_CHARS_PER_S = 4.0  # conversational Mandarin, ~240 characters a minute
CALLER_WORDS_PER_S = 2.5  # conversational English, ~150 words a minute
CALLER_REACTION_S = 1.0  # pause before the caller answers a prompt
DTMF_KEY_S = 0.5
NO_INPUT_S = 6.0
TTS_CHARS_PER_S = 2.46  # espeak-ng cmn voice, default speed: 1037 chars of prompts in 421 s
TTS_WORDS_PER_S = 2.6  # espeak-ng en voice, default speed
SEED_BEFORE_S = 300.0  # the seed article: a routine call took 5 minutes with a human …
SEED_AFTER_S = 120.0  # … and 2 minutes with AI pre-processing

_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z0-9]+")


def spoken_units(text: str) -> tuple[int, int]:
    """(Chinese characters, Latin words or digit groups) in ``text``."""
    return len(_HAN.findall(text)), len(_WORD.findall(text))


def rate_tts_seconds(text: str, lang: str = "zh") -> float:
    """Fallback TTS duration from the measured espeak-ng rates."""
    han, words = spoken_units(text)
    return han / TTS_CHARS_PER_S + words / TTS_WORDS_PER_S


def caller_seconds(said: str) -> float:
    """Seconds the caller needs to say ``said``; ``[123]`` is DTMF, ``''`` is silence."""
    if not said:
        return NO_INPUT_S
    if said.startswith("[") and said.endswith("]"):
        return CALLER_REACTION_S + DTMF_KEY_S * len(said.strip("[]#"))
    han, words = spoken_units(said)
    return CALLER_REACTION_S + han / CALLER_CHARS_PER_S + words / CALLER_WORDS_PER_S


@dataclass(frozen=True, slots=True)
class TalkTime:
    turns: int  # caller turns
    bot_s: float
    caller_s: float

    @property
    def total_s(self) -> float:
        return self.bot_s + self.caller_s


def talk_time(
    bot: Sequence[str], user: Sequence[str], tts: Callable[[str, str], float], lang: str = "zh"
) -> TalkTime:
    return TalkTime(
        len(user), sum(tts(t, lang) for t in bot if t), sum(caller_seconds(u) for u in user)
    )


def summary(times: Sequence[TalkTime]) -> dict[str, float]:
    """Medians over completed tasks, against the seed's 5 → 2 minutes."""
    if not times:
        return {"tasks": 0}
    med = statistics.median(t.total_s for t in times)
    return {
        "tasks": len(times),
        "median_turns": statistics.median(t.turns for t in times),
        "median_bot_s": round(statistics.median(t.bot_s for t in times), 1),
        "median_caller_s": round(statistics.median(t.caller_s for t in times), 1),
        "median_talk_s": round(med, 1),
        "p90_talk_s": round(sorted(t.total_s for t in times)[int(0.9 * (len(times) - 1))], 1),
        "seed_human_s": SEED_BEFORE_S,
        "seed_ai_s": SEED_AFTER_S,
        "vs_seed_ai": round(med / SEED_AFTER_S, 2),
        "vs_seed_human": round(med / SEED_BEFORE_S, 2),
    }
