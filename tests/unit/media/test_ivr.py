from __future__ import annotations

from lendline.domain.identity import id_check_char
from lendline.telephony.ivr import (
    Collect,
    IvrMenu,
    Keys,
    LookupStatus,
    NoInput,
    PauseRecording,
    ResumeRecording,
    Said,
    Say,
    Start,
    StatusFound,
    Transfer,
    choice_from_speech,
)

VALID_ID = "11010519491231002" + id_check_char("11010519491231002")


def _keys(actions: list) -> list[str]:
    return [a.key for a in actions if isinstance(a, Say)]


def test_start_plays_welcome_and_menu_then_collects_one_key() -> None:
    ivr = IvrMenu()
    acts = ivr.handle(Start())
    assert _keys(acts) == ["welcome", "menu"]
    assert acts[-1] == Collect(1, terminators="", speech=False)
    assert "请按1" in acts[1].text


def test_products_and_repayment_return_to_menu() -> None:
    ivr = IvrMenu()
    ivr.handle(Start())
    assert _keys(ivr.handle(Keys("1"))) == ["products", "menu"]
    assert _keys(ivr.handle(Keys("2"))) == ["repayment", "menu"]
    assert ivr.state == "main" and ivr.choices == ["1", "2"]


def test_status_flow_pauses_recording_validates_id_and_looks_up() -> None:
    ivr = IvrMenu()
    ivr.handle(Start())
    acts = ivr.handle(Keys("3"))
    assert isinstance(acts[0], PauseRecording)
    assert acts[-1] == Collect(18, terminators="#", timeout_s=15.0)
    wrong = ivr.handle(Keys(VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")))
    assert _keys(wrong) == ["id_invalid"] and "号码有误" in wrong[0].text
    assert ivr.state == "id_entry"
    ok = ivr.handle(Keys(VALID_ID.replace("X", "*")))
    assert ok == [ResumeRecording(), LookupStatus(VALID_ID)]
    back = ivr.handle(StatusFound("您的申请正在审核中。"))
    assert back[0] == Say("status", "您的申请正在审核中。") and ivr.state == "main"


def test_three_wrong_ids_go_to_an_agent_with_recording_resumed() -> None:
    ivr = IvrMenu()
    ivr.handle(Start())
    ivr.handle(Keys("3"))
    ivr.handle(Keys("123"))
    ivr.handle(NoInput())
    acts = ivr.handle(Keys("123456789012345678"))
    assert isinstance(acts[0], ResumeRecording)
    assert acts[-1] == Transfer("agent", "id_entry_failed") and ivr.state == "transfer"
    assert ivr.handle(Keys("1")) == []


def test_zero_transfers_and_silence_three_times_transfers() -> None:
    ivr = IvrMenu()
    ivr.handle(Start())
    assert ivr.handle(Keys("0"))[-1] == Transfer("agent", "caller_request")
    ivr2 = IvrMenu()
    ivr2.handle(Start())
    assert _keys(ivr2.handle(NoInput())) == ["menu"]
    ivr2.handle(NoInput())
    assert ivr2.handle(NoInput())[-1] == Transfer("agent", "no_input")


def test_invalid_key_replays_menu() -> None:
    ivr = IvrMenu()
    ivr.handle(Start())
    assert _keys(ivr.handle(Keys("7"))) == ["invalid", "menu"]


def test_speech_choices_only_offered_with_asr() -> None:
    ivr = IvrMenu(speech=True)
    acts = ivr.handle(Start())
    assert "menu_speech" in _keys(acts) and acts[-1].speech is True  # type: ignore[union-attr]
    assert _keys(ivr.handle(Said("我想还款"))) == ["repayment", "menu", "menu_speech"]
    assert ivr.handle(Said("speak to an agent"))[-1] == Transfer("agent", "caller_request")
    assert choice_from_speech("查询申请进度") == "3"
    assert choice_from_speech("随便") is None


def test_english_prompts() -> None:
    acts = IvrMenu(lang="en").handle(Start())
    assert acts[0].text.startswith("Welcome")  # type: ignore[union-attr]
