from __future__ import annotations

from datetime import date

import pytest

from lendline.dialogue.actions import BUILTIN_ACTIONS
from lendline.dialogue.engine import DialogueEngine
from lendline.dialogue.flow import default_flows
from lendline.dialogue.local_slots import second_factor
from lendline.dialogue.model import ConversationContext, UserInput
from lendline.errors import Conflict
from tests.unit.dialogue.fakes import KeywordUnderstanding, MemoryBackend, make_customer

TODAY = date(2026, 1, 5)


@pytest.fixture
def backend() -> MemoryBackend:
    c = make_customer(TODAY)
    return MemoryBackend(customers={c.customer_id: c})


@pytest.fixture
def engine(backend: MemoryBackend) -> DialogueEngine:
    return DialogueEngine(default_flows(BUILTIN_ACTIONS), KeywordUnderstanding(), backend)


def ctx(**kw: object) -> ConversationContext:
    return ConversationContext(conversation_id="cv1", today=TODAY.isoformat(), **kw)  # type: ignore[arg-type]


def say(e: DialogueEngine, c: ConversationContext, text: str = "", dtmf: str = "") -> object:
    return e.handle(c, UserInput(text=text, dtmf=dtmf))


def test_product_enquiry_asks_type_then_amount_then_lists_products(engine: DialogueEngine) -> None:
    c = ctx()
    r = engine.start(c)
    assert "有什么可以帮您" in r.text and r.state == "main.greet"
    r = say(engine, c, "我想贷款")
    assert "个人贷款还是企业贷款" in r.text and r.state == "product_enquiry.ask_type"
    r = say(engine, c, "个人的")
    assert r.state == "product_enquiry.ask_amount"
    r = say(engine, c, "5万")
    assert r.action == "match_products" and "个人消费贷" in r.text and "9.9%" in r.text
    assert r.state == "product_enquiry.offer"


def test_correction_rematches_products(engine: DialogueEngine) -> None:
    c = ctx()
    engine.start(c)
    say(engine, c, "我想贷款，个人的，50万")
    r = say(engine, c, "不对，是企业贷款")
    assert "已为您更正" in r.text and "企业经营贷" in r.text
    assert c.slots["loan_type"] == "business"


def test_low_confidence_reasks_then_hands_off_with_context(engine: DialogueEngine) -> None:
    c = ctx()
    engine.start(c)
    say(engine, c, "我想贷款")
    r = say(engine, c, "嗯嗯啊啊")
    assert "没有听明白" in r.text and r.handoff is None
    r = say(engine, c, "呃呃")
    assert r.handoff is not None and r.handoff.reason == "low_confidence"
    assert r.handoff.queue == "products"
    ctxd = r.handoff.context
    assert ctxd["state"] == "product_enquiry.ask_type"
    assert [i["intent"] for i in ctxd["intents"]] == ["apply_loan", "out_of_scope", "out_of_scope"]
    assert any(t["text"] == "我想贷款" for t in ctxd["transcript"])
    with pytest.raises(Conflict):
        say(engine, c, "还在吗")


def test_customer_asks_for_human(engine: DialogueEngine) -> None:
    c = ctx()
    engine.start(c)
    r = say(engine, c, "转人工")
    assert r.handoff is not None and r.handoff.reason == "customer_request"
    assert r.action == "request_human"


def test_silence_reprompts_then_ends(engine: DialogueEngine) -> None:
    c = ctx()
    engine.start(c)
    r1 = say(engine, c)
    assert "还在吗" in r1.text and not r1.ended
    say(engine, c, "")
    r3 = say(engine, c, "   ")
    assert r3.ended and r3.action == "hangup"


def test_verification_then_repayment_info(engine: DialogueEngine, backend: MemoryBackend) -> None:
    c = ctx()
    engine.start(c)
    r = say(engine, c, "我的还款日是哪天")
    assert r.state == "verify_identity.ask_id"
    idn = backend.customers["C1"].id_number
    r = say(engine, c, f"身份证{idn}")
    assert r.state == "verify_identity.ask_second" and idn not in str(r.slots)
    r = say(engine, c, "1985年3月12日")
    assert c.verified and r.action == "repayment_info"
    assert "4375" in r.text and r.state == "main.anything_else"
    assert all(idn not in t["text"] for t in c.transcript)


def test_wrong_id_number_checksum_is_named(engine: DialogueEngine) -> None:
    c = ctx()
    engine.start(c)
    say(engine, c, "查询审批进度")
    r = say(engine, c, "110105198503120011")
    assert "身份证号码有误" in r.text and r.state == "verify_identity.ask_id"


def test_lockout_after_three_failures(engine: DialogueEngine, backend: MemoryBackend) -> None:
    c = ctx()
    engine.start(c)
    say(engine, c, "查询审批进度")
    idn = backend.customers["C1"].id_number
    for attempt in (1, 2):
        say(engine, c, idn)
        r = say(engine, c, "尾号0000")
        assert "还可以再试" in r.text and f"{3 - attempt}次" in r.text
    say(engine, c, idn)
    r = say(engine, c, "尾号0000")
    assert r.handoff is not None and r.handoff.reason == "verification_locked"
    assert not c.verified


def test_dtmf_choice_and_digits(engine: DialogueEngine, backend: MemoryBackend) -> None:
    c = ctx(channel="voice")
    engine.start(c)
    r = say(engine, c, "需要什么材料")
    assert r.expects.dtmf_keys == ("1", "2")
    r = say(engine, c, dtmf="2")
    assert "营业执照" in r.text


def test_collection_promise_to_pay(engine: DialogueEngine, backend: MemoryBackend) -> None:
    c = ctx(customer_id="C1", verified=True)
    r = engine.start(c, flow="collection_reminder")
    assert "已逾期5天" in r.text and r.state == "collection_reminder.ask_date"
    r = say(engine, c, "下个月")
    assert r.state == "collection_reminder.too_late"
    r = say(engine, c, "明天我会还")
    assert r.action == "record_promise" and "2026-01-06" in r.text
    assert backend.promises[0]["amount_fen"] == 4_375_00


def test_collection_dispute_goes_to_human(engine: DialogueEngine) -> None:
    c = ctx(customer_id="C1", verified=True)
    engine.start(c, flow="collection_reminder")
    r = say(engine, c, "这钱不是我借的")
    assert r.handoff is not None and r.handoff.reason == "dispute"
    assert r.handoff.queue == "collections"


def test_complaint_ticket_read_back(engine: DialogueEngine, backend: MemoryBackend) -> None:
    c = ctx()
    engine.start(c)
    r = say(engine, c, "我要投诉你们的催收")
    assert r.state == "complaint.ask_details"  # category taken from the first words
    r = say(engine, c, "打电话给我同事，号码13912345678")
    assert r.action == "open_ticket" and "T202601050001" in r.text
    assert backend.tickets[0]["category"] == "collection"
    assert "13912345678" not in backend.tickets[0]["details"]


def test_stop_calling_for_known_customer(engine: DialogueEngine, backend: MemoryBackend) -> None:
    c = ctx(customer_id="C1")
    engine.start(c)
    r = say(engine, c, "以后别再打电话了")
    assert r.state == "stop_calling.confirm"
    r = say(engine, c, "是的")
    assert r.action == "stop_calling" and "C1" in backend.dnc


def test_second_factor_parsing() -> None:
    assert second_factor("我是1985年3月12日出生") == "dob:1985-03-12"
    assert second_factor("19850312") == "dob:1985-03-12"
    assert second_factor("尾号 5678") == "last4:5678"
    assert second_factor("不知道") is None


def test_giving_up_verification_returns_to_main_without_reading_the_account(
    engine: DialogueEngine,
) -> None:
    c = ctx(customer_id="C1")
    engine.start(c)
    say(engine, c, "我的还款日是哪天")
    r = say(engine, c, "不是，不用了")
    assert r.state == "main.anything_else" and "未完成身份验证" in r.text
    assert "repayment_info" not in r.actions and "4375" not in r.text


def test_account_actions_refuse_an_unverified_caller(backend: MemoryBackend) -> None:
    from lendline.dialogue.actions import BUILTIN_ACTIONS

    c = ctx(customer_id="C1")
    for name in ("repayment_info", "application_status", "early_repayment_quote",
                 "collection_summary", "credit_precheck"):  # fmt: skip
        res = BUILTIN_ACTIONS[name](c, {}, backend)
        assert res.outcome in ("none", "review") and not res.vars, name
