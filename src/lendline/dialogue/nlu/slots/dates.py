"""Dates relative to ``today``, as callers say them, into ``datetime.date``.

Chinese: 今天/明天/后天/大后天, N天后, (这|本|下|下下)周五 / 星期五 / 礼拜五, 月底 / 月初 /
月中 (with 下个月 / 下月), 15号 / 十五日, 3月15号, 2026-12-01, 2026年12月1日.
English: today, tomorrow, in N days, (next|this) friday, end of (next) month, the 15th,
March 15 / 15 March.

Rules: a bare day of month ("15号") is the next such day on or after today; a bare weekday
("周五") is the next such day on or after today; "下周五" is Friday of next calendar week
(weeks start on Monday, as in China). An impossible date (2月30号) is not returned.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from lendline.dialogue.nlu.slots.numerals import CN_NUMERAL_CHARS, parse_number

_N = rf"(?:\d{{1,4}}|[{CN_NUMERAL_CHARS}]{{1,4}})"
_WEEKDAYS_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEKDAYS_EN = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_MONTHS_EN = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}
_REL_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3,
             "today": 0, "tomorrow": 1, "day after tomorrow": 2}  # fmt: skip

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(p))
    for name, p in (
        ("iso", r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?"),
        ("md_cn", rf"(?P<m>{_N})月(?P<d>{_N})[日号]"),
        ("md_en", r"(?P<mon>[a-z]{3,9})\.? (?P<d>\d{1,2})(?:st|nd|rd|th)?\b"),
        ("dm_en", r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)? (?:of )?(?P<mon>[a-z]{3,9})\b"),
        ("rel", r"大后天|day after tomorrow|后天|明天|明日|今天|今日|tomorrow|today"),
        ("in_days", rf"(?P<n>{_N})\s*(?:天|日)(?:之?后|以后)|in (?P<n2>\d{{1,3}}) days?"),
        (
            "month_part",
            r"(?P<which>下下个?|下个?|这个?|本)?(?P<part>月底|月末|月初|月中)"
            r"|(?P<en>end of (?:the |this |next )?month|month[- ]end)",
        ),
        ("week_cn", r"(?P<which>下下|下个?|这个?|本)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末])"),
        (
            "week_en",
            r"(?P<which>next|this|coming)?\s*(?P<wd>monday|tuesday|wednesday|"
            r"thursday|friday|saturday|sunday)",
        ),
        (
            "dom",
            rf"(?P<which>下个?月|下下个?月)?(?P<d>{_N})(?:号|日)"
            r"|(?:on )?the (?P<d2>\d{1,2})(?:st|nd|rd|th)\b",
        ),
    )
)


class _Invalid:
    """A recognised date expression naming a day that does not exist (2月30号)."""


INVALID = _Invalid()


def _month_add(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    if not text:
        return None
    v = parse_number(text)
    return int(v) if v is not None and v == int(v) else None


def _months_ahead(which: str | None) -> int:
    if not which:
        return 0
    if which.startswith("下下"):
        return 2
    return 1 if which.startswith(("下", "next")) else 0


def _resolve(name: str, m: re.Match[str], today: date) -> date | _Invalid | None:
    g = m.groupdict()
    if name == "iso":
        return _safe_date(int(g["y"]), int(g["m"]), int(g["d"]))
    if name in ("md_cn", "md_en", "dm_en"):
        month = _MONTHS_EN.get(g["mon"]) if "mon" in g else _int(g["m"])
        day = _int(g["d"])
        if not month or not day:
            return None
        found = _safe_date(today.year, month, day)
        if found is not None and found < today:
            found = _safe_date(today.year + 1, month, day)
        return INVALID if found is None else found
    if name == "rel":
        return today + timedelta(days=_REL_DAYS[m.group()])
    if name == "in_days":
        n = _int(g["n"] or g["n2"])
        return None if n is None or n > 366 else today + timedelta(days=n)
    if name == "month_part":
        en = g["en"] or ""
        y, mo = _month_add(today.year, today.month, _months_ahead(g["which"] or en[7:]))
        part = g["part"] or "月底"
        if "初" in part:
            # "月初" this month already begun: the caller means the start of next month
            if not g["which"] and today.day > 5:
                y, mo = _month_add(y, mo, 1)
            return date(y, mo, 1)
        if "中" in part:
            return date(y, mo, 15)
        return date(y, mo, calendar.monthrange(y, mo)[1])
    if name in ("week_cn", "week_en"):
        wd_key = g["wd"]
        wd = _WEEKDAYS_CN[wd_key] if name == "week_cn" else _WEEKDAYS_EN[wd_key]
        which = g["which"] or ""
        monday = today - timedelta(days=today.weekday())
        if which.startswith("下下"):
            return monday + timedelta(days=14 + wd)
        if which.startswith(("下", "next")):
            return monday + timedelta(days=7 + wd)
        if which.startswith(("这", "本", "this")):
            return monday + timedelta(days=wd)
        ahead = (wd - today.weekday()) % 7
        return today + timedelta(days=ahead)
    if name == "dom":
        day = _int(g["d"] or g["d2"])
        if day is None or not 1 <= day <= 31:
            return INVALID
        y, mo = _month_add(today.year, today.month, _months_ahead(g["which"]))
        if g["which"]:
            return _safe_date(y, mo, day) or INVALID
        if day < today.day:
            y, mo = _month_add(y, mo, 1)
        for _ in range(3):  # "31号" in November means 31 December
            found = _safe_date(y, mo, day)
            if found is not None:
                return found
            y, mo = _month_add(y, mo, 1)
        return INVALID
    return None


def find_date(text: str, today: date) -> tuple[date, tuple[int, int]] | None:
    """The earliest-placed date expression in ``text`` resolved against ``today``."""
    best: tuple[int, int, date] | None = None
    invalid: list[tuple[int, int]] = []
    for name, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in invalid):
                continue
            found = _resolve(name, m, today)
            if found is None:
                continue
            if isinstance(found, _Invalid):
                invalid.append(m.span())
                continue
            if best is None or m.start() < best[0] or (m.start() == best[0] and m.end() > best[1]):
                best = (m.start(), m.end(), found)
            break
    if best is None:
        return None
    return best[2], (best[0], best[1])
