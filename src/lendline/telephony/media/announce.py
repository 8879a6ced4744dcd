"""The wait announcement text: queue position and estimated wait → a sentence.

Rounding: under 60 s → "不到1分钟" / "less than a minute"; up to an hour, the nearest
whole minute (half a minute rounds up: 89 s → 1, 90 s → 2); from an hour on no figure is
promised: "超过1小时" / "more than an hour" (routing's EWT is capped at one hour,
``routing.ewt.INFINITE_WAIT_S``, when no agent serves the queue).
"""

from __future__ import annotations

import math


def format_wait_announcement(position: int, ewt_s: float, lang: str = "zh") -> str:
    """``position`` callers ahead (0 = next), ``ewt_s`` estimated wait in seconds."""
    position = max(0, int(position))
    zh = lang.lower().startswith("zh")
    if ewt_s < 60:
        wait_zh, wait_en = "不到1分钟", "less than a minute"
    elif ewt_s >= 3600:
        wait_zh, wait_en = "超过1小时", "more than an hour"
    else:
        minutes = math.floor(ewt_s / 60 + 0.5)
        wait_zh = f"约{minutes}分钟"
        wait_en = f"about {minutes} minute{'s' if minutes != 1 else ''}"
    if zh:
        ahead = f"您前面还有{position}位客户" if position else "您是下一位"
        return f"{ahead}，预计等待{wait_zh}"
    if position == 0:
        ahead = "You are next"
    else:
        ahead = f"There {'is' if position == 1 else 'are'} {position} "
        ahead += f"caller{'s' if position != 1 else ''} ahead of you"
    return f"{ahead}; the estimated wait is {wait_en}."
