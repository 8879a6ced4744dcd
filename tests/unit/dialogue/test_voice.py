from __future__ import annotations

from datetime import date

from lendline.dialogue.engine import DialogueEngine
from lendline.dialogue.flow import default_flows
from lendline.dialogue.model import ConversationContext, UserInput
from lendline.dialogue.voice import caller_input, voice_plan
from tests.unit.dialogue.fakes import KeywordUnderstanding, MemoryBackend, make_customer

TODAY = date(2026, 1, 5)


def test_same_flows_on_voice_keys_and_plans() -> None:
    c = make_customer(TODAY)
    e = DialogueEngine(default_flows(), KeywordUnderstanding(), MemoryBackend({"C1": c}))
    ctx = ConversationContext("v1", channel="voice", today=TODAY.isoformat())
    plan = voice_plan(e.start(ctx))
    assert plan.barge_in and not plan.hangup and plan.max_digits == 1 and "2" in plan.keys
    plan = voice_plan(e.handle(ctx, UserInput("我的还款日是哪天")))
    assert plan.sensitive and plan.max_digits == 18 and plan.timeout_s > 6
    keyed = c.id_number.replace("X", "*") + "#"
    plan = voice_plan(e.handle(ctx, UserInput(**caller_input(keys=keyed))))
    assert plan.sensitive and plan.max_digits == 8  # date of birth next
    r = e.handle(ctx, UserInput(**caller_input(keys="19850312")))
    assert ctx.verified and r.action == "repayment_info" and "19850312" not in str(ctx.transcript)
    plan = voice_plan(e.handle(ctx, UserInput(**caller_input(asr_text="转人工"))))
    assert plan.transfer_queue == "general" and not plan.barge_in


def test_silence_is_no_input() -> None:
    assert caller_input() == {"text": "", "dtmf": ""}
    assert UserInput(**caller_input(asr_text="  ")).is_no_input
