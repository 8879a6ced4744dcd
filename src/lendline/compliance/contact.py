"""``ContactPolicy``: may we place this outbound call now? (pure; times passed in)

Rules (values from ``policy/compliance.yaml``; defaults below), in the customer's local
time zone:

======================  ================================================================
reason code             refuses when
======================  ================================================================
quiet_hours             local time in [22:00, 08:00) and no consent to calls at that time
do_not_call             customer on the do-not-call list (for collection and marketing)
daily_attempt_cap       ≥ 6 unanswered outbound attempts today (local day)
daily_connected_cap     ≥ 3 connected collection calls today, across all teams
weekly_attempt_cap      ≥ 20 outbound attempts in the last 7 days
weekly_connected_cap    ≥ 10 connected collection calls in the last 7 days
third_party_disclosure  a call to someone other than the debtor that would discuss the debt
======================  ================================================================

A call to a third party is allowed only with the restriction ``callback_request_only``.
``next_allowed_at`` (UTC) is the earliest time every refusal clears (None: never by itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lendline.errors import ValidationError

PURPOSES = ("collection", "marketing", "service")
PARTIES = ("debtor", "third_party")
NEVER = ("do_not_call", "third_party_disclosure")


@dataclass(frozen=True, slots=True)
class ContactRules:
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    daily_unanswered_attempts_max: int = 6
    daily_connected_collection_max: int = 3
    weekly_attempts_max: int = 20
    weekly_connected_collection_max: int = 10
    dnc_purposes: frozenset[str] = frozenset({"collection", "marketing"})


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One past interaction (from the ``contacts`` table)."""

    at: datetime
    channel: str  # call | bot | sms | app
    direction: str  # inbound | outbound
    purpose: str
    connected: bool


@dataclass(frozen=True, slots=True)
class ContactSubject:
    customer_id: str
    timezone: str = "Asia/Shanghai"
    quiet_hours_consent: bool = False
    do_not_call: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None
    restrictions: tuple[str, ...] = ()
    local_time: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "restrictions": list(self.restrictions),
            "local_time": self.local_time,
        }


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r}", field="timezone") from None


@dataclass(frozen=True, slots=True)
class _Counts:
    today_unanswered: int
    today_connected_collection: int
    week_attempts: list[datetime] = field(default_factory=list)
    week_connected_collection: list[datetime] = field(default_factory=list)


class ContactPolicy:
    def __init__(self, rules: ContactRules | None = None) -> None:
        self.rules = rules or ContactRules()

    def _in_quiet(self, local: datetime) -> bool:
        t, start, end = local.time(), self.rules.quiet_start, self.rules.quiet_end
        return (t >= start or t < end) if start > end else start <= t < end

    def _quiet_clears(self, local: datetime) -> datetime:
        end = local.replace(
            hour=self.rules.quiet_end.hour,
            minute=self.rules.quiet_end.minute,
            second=0,
            microsecond=0,
        )
        return end if end > local else end + timedelta(days=1)

    def _counts(self, history: Sequence[ContactRecord], at: datetime, tz: ZoneInfo) -> _Counts:
        day_start = at.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        week_start = at - timedelta(days=7)
        outbound = [
            h
            for h in history
            if h.direction == "outbound" and h.channel in ("call", "bot") and h.at <= at
        ]
        today = [h for h in outbound if h.at >= day_start]
        week = [h for h in outbound if h.at > week_start]
        return _Counts(
            today_unanswered=sum(1 for h in today if not h.connected),
            today_connected_collection=sum(
                1 for h in today if h.connected and h.purpose == "collection"
            ),
            week_attempts=sorted(h.at for h in week),
            week_connected_collection=sorted(
                h.at for h in week if h.connected and h.purpose == "collection"
            ),
        )

    def _refusals(
        self,
        subject: ContactSubject,
        purpose: str,
        party: str,
        discusses_debt: bool,
        at: datetime,
        history: Sequence[ContactRecord],
    ) -> dict[str, datetime | None]:
        """Reason code → when it clears (None = not by waiting)."""
        r = self.rules
        tz = _zone(subject.timezone)
        local = at.astimezone(tz)
        out: dict[str, datetime | None] = {}
        if subject.do_not_call and purpose in r.dnc_purposes:
            out["do_not_call"] = None
        if party == "third_party" and discusses_debt:
            out["third_party_disclosure"] = None
        if self._in_quiet(local) and not subject.quiet_hours_consent:
            out["quiet_hours"] = self._quiet_clears(local)
        c = self._counts(history, at, tz)
        next_day = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        if c.today_unanswered >= r.daily_unanswered_attempts_max:
            out["daily_attempt_cap"] = next_day
        if purpose == "collection" and (
            c.today_connected_collection >= r.daily_connected_collection_max
        ):
            out["daily_connected_cap"] = next_day
        if len(c.week_attempts) >= r.weekly_attempts_max:
            k = len(c.week_attempts) - r.weekly_attempts_max
            out["weekly_attempt_cap"] = c.week_attempts[k] + timedelta(days=7, microseconds=1)
        if purpose == "collection" and (
            len(c.week_connected_collection) >= r.weekly_connected_collection_max
        ):
            k = len(c.week_connected_collection) - r.weekly_connected_collection_max
            out["weekly_connected_cap"] = c.week_connected_collection[k] + timedelta(
                days=7, microseconds=1
            )
        return out

    def decide(
        self,
        subject: ContactSubject,
        *,
        purpose: str,
        now: datetime,
        history: Sequence[ContactRecord],
        party: str = "debtor",
        discusses_debt: bool = False,
    ) -> Decision:
        if purpose not in PURPOSES:
            raise ValidationError(f"must be one of {', '.join(PURPOSES)}", field="purpose")
        if party not in PARTIES:
            raise ValidationError(f"must be one of {', '.join(PARTIES)}", field="party")
        if now.tzinfo is None:
            raise ValidationError("time must carry a zone offset", field="at")
        refusals = self._refusals(subject, purpose, party, discusses_debt, now, history)
        restrictions = ("callback_request_only",) if party == "third_party" else ()
        local = now.astimezone(_zone(subject.timezone)).isoformat()
        if not refusals:
            return Decision(True, (), None, restrictions, local)
        next_at: datetime | None = None
        if not any(code in NEVER for code in refusals):
            t = now
            for _ in range(16):  # each step moves past one refusal; caps interact at most a few
                pending = self._refusals(subject, purpose, party, discusses_debt, t, history)
                if not pending:
                    next_at = t.astimezone(UTC)
                    break
                clears = [v for v in pending.values() if v is not None]
                t = max(clears)
        return Decision(False, tuple(sorted(refusals)), next_at, restrictions, local)
