from __future__ import annotations

from lendline.compliance import apikeys
from lendline.compliance.masking import mask_card, mask_id_number, mask_name, mask_phone, mask_text
from lendline.compliance.rbac import PERMISSIONS, Role
from lendline.compliance.scope import RowScope, may_see_customer, may_see_row, scope_for
from lendline.compliance.throttle import AddressThrottle, LoginRules, after_failure


def test_address_throttle_is_a_sliding_window() -> None:
    t = AddressThrottle(LoginRules(ip_max_attempts=3, ip_window_s=60))
    assert [t.allow("1.2.3.4", s) for s in (0, 1, 2)] == [0, 0, 0]
    assert t.allow("1.2.3.4", 3) == 57
    assert t.allow("5.6.7.8", 3) == 0  # other addresses unaffected
    assert t.allow("1.2.3.4", 60.5) == 0


def test_lock_after_five_failures() -> None:
    rules = LoginRules()
    n, locked = 0, False
    for _ in range(4):
        n, locked = after_failure(n, rules)
        assert not locked
    assert after_failure(n, rules) == (5, True)


def test_api_keys_are_hashed_and_parsed() -> None:
    key_id, full, digest = apikeys.new_key()
    parsed = apikeys.split_key(full)
    assert parsed is not None and parsed[0] == key_id
    assert apikeys.matches(digest, parsed[1]) and full not in digest
    assert not apikeys.matches(digest, parsed[1] + "x")
    assert apikeys.split_key("Bearer abc") is None and apikeys.split_key("ll_short_x") is None


def test_masks() -> None:
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_card("6222021234567890123") == "6222***********0123"
    assert mask_name("欧阳娜娜") == "欧阳**" and mask_name("张三") == "张*"
    text = "客户 13812345678 身份证 110105194912310021 卡 6222021234567890123"
    masked = mask_text(text)
    assert "13812345678" not in masked and "110105194912310021" not in masked
    assert "138****5678" in masked and "110105********0021" in masked


def test_numbers_written_with_spaces_hyphens_or_full_width_digits_are_masked() -> None:
    for text, shown in (
        ("客户电话 138 1234 5678", "138****5678"),
        ("call 138-1234-5678 pls", "138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("手机１３８１２３４５６７８", "138****5678"),
        ("卡号 6222 0212 3456 7890", "6222********7890"),
        ("卡号6222-0212-3456-7890-123", "6222************123"),
        ("身份证 110105 19491231 0021", "110105********0021"),
    ):
        masked = mask_text(text)
        assert shown in masked, (text, masked)
        digits = "".join(c for c in masked if c.isdigit())
        assert len(digits) <= 10, (text, masked)  # what is left is never the whole number
    assert mask_text("贷款 50000 元，2026-11-28 到期，期限 12 个月") == (
        "贷款 50000 元，2026-11-28 到期，期限 12 个月"
    )


def test_masking_keeps_lendline_ids_whole_and_still_masks_numbers_around_them() -> None:
    """A recording id whose hex digits happen to read like a mobile number stayed masked
    in the audit trail ("rec-723d151****5409da3d9"): the purge entry lost its target."""
    rid = "rec-723d15149365409da3d9"  # "15149365409": 1, 5, then nine digits
    assert mask_text(rid) == rid
    call_id = "d15149365409a" + "0" * 19  # a uuid4 hex with the same run
    assert mask_text(f"calls {call_id}, {rid} closed") == f"calls {call_id}, {rid} closed"
    # numbers next to them, glued to letters or on their own, are still masked
    text = f"{rid} 客户13812345678 tel13812345678 13812345678abc 110105194912310021"
    masked = mask_text(text)
    assert masked.startswith(rid + " ")
    assert "13812345678" not in masked and "110105194912310021" not in masked
    assert masked.count("138****5678") == 3
    # an ID number or a card number is never taken for an identifier
    assert mask_text("11010519491231002X") == "110105********002X"
    assert mask_text("6222021234567890123") == "6222***********0123"
    # nor are numbers with hex letters glued on (a review found these leaking)
    for leak in (
        "卡号6222021234567890123a",
        "110105194912310021abc",
        "13812345678abcde",
        "tel:13812345678DEADBEEF",
        "+8613812345678abcdef",
        "rec-13812345678abcdef0123",  # a recording id is 20 hex after "rec-", not 19
        "otp-6222021234567890123",  # all digits: a number, whatever its prefix
    ):
        masked = mask_text(leak)
        assert not any(
            n in masked for n in ("13812345678", "6222021234567890123", "110105194912310021")
        ), leak


def test_row_scopes() -> None:
    agent = scope_for(Role.AGENT, "agent01", "team_a")
    lead = scope_for(Role.TEAM_LEAD, None, "team_a")
    assert may_see_row(agent, "agent01", "team_a") and not may_see_row(agent, "agent02", "team_a")
    assert may_see_row(lead, "agent02", "team_a") and not may_see_row(lead, "agent03", "team_b")
    assert scope_for(Role.COMPLIANCE_OFFICER, None, None).unrestricted
    assert scope_for(Role.AGENT, None, None) == RowScope(nothing=True)
    assert may_see_customer(agent, "C1", current_call_customer_id="C1", customer_team_id=None)
    assert not may_see_customer(agent, "C2", current_call_customer_id="C1", customer_team_id=None)
    assert not may_see_customer(agent, "C1", current_call_customer_id=None, customer_team_id=None)


def test_compliance_officers_get_no_business_writes() -> None:
    business_writes = {
        "calls.create",
        "calls.control",
        "agents.state",
        "rules.reload",
        "otp.start",
        "otp.confirm",
        "rates.submit",
    }
    for action in business_writes & PERMISSIONS.keys():
        assert Role.COMPLIANCE_OFFICER not in PERMISSIONS[action], action
    assert Role.AGENT not in PERMISSIONS["exports.csv"]
    assert PERMISSIONS["exports.csv"] == frozenset({Role.COMPLIANCE_OFFICER})
