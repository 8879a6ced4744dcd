from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendline.compliance.contact import ContactPolicy, ContactRecord, ContactSubject
from lendline.errors import ValidationError

SH = ZoneInfo("Asia/Shanghai")
POLICY = ContactPolicy()
DEBTOR = ContactSubject("C1")


def local(y: int, mo: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = SH) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz).astimezone(UTC)


def calls(
    n: int, start: datetime, *, connected: bool, purpose: str = "collection"
) -> list[ContactRecord]:
    return [
        ContactRecord(start + timedelta(minutes=10 * i), "call", "outbound", purpose, connected)
        for i in range(n)
    ]


def test_daytime_call_is_allowed() -> None:
    d = POLICY.decide(DEBTOR, purpose="collection", now=local(2026, 3, 2, 10), history=[])
    assert d.allowed and d.reasons == () and d.next_allowed_at is None


@pytest.mark.parametrize(("hour", "minute"), [(22, 0), (23, 59), (0, 0), (7, 59)])
def test_quiet_hours_refuse_until_eight_local(hour: int, minute: int) -> None:
    now = local(2026, 3, 2, hour, minute)
    d = POLICY.decide(DEBTOR, purpose="marketing", now=now, history=[])
    assert not d.allowed and d.reasons == ("quiet_hours",)
    assert d.next_allowed_at is not None
    nxt = d.next_allowed_at.astimezone(SH)
    assert (nxt.hour, nxt.minute) == (8, 0) and d.next_allowed_at > now
    assert d.next_allowed_at - now <= timedelta(hours=10)


def test_quiet_hours_follow_the_customers_time_zone() -> None:
    ny = ContactSubject("C2", timezone="America/New_York")
    now = local(2026, 3, 2, 11)  # 11:00 in Shanghai = 22:00 the day before in New York
    assert POLICY.decide(DEBTOR, purpose="service", now=now, history=[]).allowed
    d = POLICY.decide(ny, purpose="service", now=now, history=[])
    assert d.reasons == ("quiet_hours",)
    assert d.next_allowed_at == datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("America/New_York"))


def test_consent_to_the_time_lifts_quiet_hours() -> None:
    consenting = ContactSubject("C1", quiet_hours_consent=True)
    assert POLICY.decide(
        consenting, purpose="service", now=local(2026, 3, 2, 23), history=[]
    ).allowed


def test_six_unanswered_attempts_a_day() -> None:
    now = local(2026, 3, 2, 15)
    five = calls(5, local(2026, 3, 2, 9), connected=False)
    assert POLICY.decide(DEBTOR, purpose="collection", now=now, history=five).allowed
    six = calls(6, local(2026, 3, 2, 9), connected=False)
    d = POLICY.decide(DEBTOR, purpose="collection", now=now, history=six)
    assert d.reasons == ("daily_attempt_cap",)
    # the next local day starts at 00:00, inside quiet hours, so 08:00 next morning
    assert d.next_allowed_at == local(2026, 3, 3, 8)
    yesterday = calls(6, local(2026, 3, 1, 9), connected=False)
    assert POLICY.decide(DEBTOR, purpose="collection", now=now, history=yesterday).allowed


def test_three_connected_collection_calls_a_day_across_teams() -> None:
    now = local(2026, 3, 2, 15)
    three = calls(3, local(2026, 3, 2, 9), connected=True)
    d = POLICY.decide(DEBTOR, purpose="collection", now=now, history=three)
    assert d.reasons == ("daily_connected_cap",)
    assert POLICY.decide(DEBTOR, purpose="service", now=now, history=three).allowed
    service = calls(3, local(2026, 3, 2, 9), connected=True, purpose="service")
    assert POLICY.decide(DEBTOR, purpose="collection", now=now, history=service).allowed


def test_weekly_attempt_cap_clears_when_the_oldest_leaves_the_window() -> None:
    now = local(2026, 3, 8, 15)
    history = []
    for day in range(2, 7):  # five days × 4 unanswered = 20 in the last 7 days
        history += calls(4, local(2026, 3, day, 10), connected=False)
    d = POLICY.decide(DEBTOR, purpose="marketing", now=now, history=history)
    assert d.reasons == ("weekly_attempt_cap",)
    assert d.next_allowed_at is not None
    assert d.next_allowed_at == history[0].at + timedelta(days=7, microseconds=1)
    assert POLICY.decide(
        DEBTOR, purpose="marketing", now=d.next_allowed_at, history=history
    ).allowed


def test_do_not_call_blocks_marketing_and_collection_for_good() -> None:
    dnc = ContactSubject("C1", do_not_call=True)
    now = local(2026, 3, 2, 23)
    for purpose in ("marketing", "collection"):
        d = POLICY.decide(dnc, purpose=purpose, now=now, history=[])
        assert "do_not_call" in d.reasons and d.next_allowed_at is None
    assert POLICY.decide(dnc, purpose="service", now=local(2026, 3, 2, 10), history=[]).allowed


def test_third_party_may_only_be_asked_for_a_call_back() -> None:
    now = local(2026, 3, 2, 10)
    d = POLICY.decide(DEBTOR, purpose="collection", now=now, history=[], party="third_party")
    assert d.allowed and d.restrictions == ("callback_request_only",)
    d = POLICY.decide(
        DEBTOR, purpose="collection", now=now, history=[], party="third_party", discusses_debt=True
    )
    assert not d.allowed and d.reasons == ("third_party_disclosure",) and d.next_allowed_at is None


def test_several_reasons_are_all_reported() -> None:
    now = local(2026, 3, 2, 23)
    d = POLICY.decide(
        DEBTOR,
        purpose="collection",
        now=now,
        history=calls(3, local(2026, 3, 2, 9), connected=True),
    )
    assert d.reasons == ("daily_connected_cap", "quiet_hours")
    assert d.next_allowed_at == local(2026, 3, 3, 8)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValidationError) as e:
        POLICY.decide(DEBTOR, purpose="sales", now=local(2026, 3, 2, 10), history=[])
    assert e.value.field == "purpose"
    with pytest.raises(ValidationError) as e:
        POLICY.decide(
            ContactSubject("C", timezone="Mars/Base"),
            purpose="service",
            now=local(2026, 3, 2, 10),
            history=[],
        )
    assert e.value.field == "timezone"
    with pytest.raises(ValidationError):
        POLICY.decide(DEBTOR, purpose="service", now=datetime(2026, 3, 2, 10), history=[])


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=14 * 24 * 60),
    st.lists(
        st.tuples(
            st.integers(0, 14 * 24 * 60), st.booleans(), st.sampled_from(["collection", "service"])
        ),
        max_size=40,
    ),
    st.sampled_from(["collection", "marketing", "service"]),
    st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "America/New_York"]),
    st.booleans(),
)
def test_next_allowed_at_is_allowed_and_in_the_future(
    minute: int, past: list[tuple[int, bool, str]], purpose: str, tz: str, consent: bool
) -> None:
    base = datetime(2026, 3, 1, tzinfo=UTC)
    now = base + timedelta(minutes=minute)
    history = [
        ContactRecord(base + timedelta(minutes=m), "call", "outbound", p, c)
        for m, c, p in past
        if base + timedelta(minutes=m) <= now
    ]
    subject = ContactSubject("C1", timezone=tz, quiet_hours_consent=consent)
    d = POLICY.decide(subject, purpose=purpose, now=now, history=history)
    if d.allowed:
        assert d.reasons == () and d.next_allowed_at is None
        return
    assert d.next_allowed_at is not None and d.next_allowed_at > now
    assert POLICY.decide(subject, purpose=purpose, now=d.next_allowed_at, history=history).allowed
    just_before = d.next_allowed_at - timedelta(seconds=1)
    if just_before > now:
        assert not POLICY.decide(subject, purpose=purpose, now=just_before, history=history).allowed
