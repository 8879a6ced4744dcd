"""The demo IVR menu (Chinese first), as a sans-I/O state machine.

Main menu: 1 贷款产品 (loan products), 2 还款 (repayment), 3 申请进度 (application status:
the caller keys the 18-character ID number, ``*`` for X, validated with GB 11643 — a wrong
number is answered "号码有误" and asked again), 0 人工服务 (an agent). With an ASR engine the
caller may also say the choice; without one the menu is DTMF only.

The machine takes inputs (``Start``, ``Keys``, ``Said``, ``NoInput``, ``StatusFound``) and
returns actions (``Say``, ``Collect``, ``PauseRecording``, ``ResumeRecording``,
``LookupStatus``, ``Transfer``, ``Hangup``) for a runner to carry out.

State table (``(state, input) → state: actions``)::

    start     Start                  → main:      Say welcome+menu, Collect 1
    main      Keys 1 | Said 产品       → main:      Say products, Say menu, Collect 1
    main      Keys 2 | Said 还款       → main:      Say repayment, Say menu, Collect 1
    main      Keys 3 | Said 申请/进度   → id_entry:  PauseRecording, Say enter-ID, Collect 18
    main      Keys 0 | Said 人工/agent → transfer:  Say connecting, Transfer agent
    main      other key / not understood → main:   Say invalid, Say menu, Collect 1
    main      NoInput (≤ 2 times)     → main:      Say menu, Collect 1
    main      NoInput (3rd time)      → transfer:  Transfer agent (reason no_input)
    id_entry  Keys valid ID           → lookup:    ResumeRecording, LookupStatus id
    id_entry  Keys invalid (≤ 2 times)→ id_entry:  Say 号码有误, Collect 18
    id_entry  Keys invalid (3rd) | NoInput (3rd) → transfer: ResumeRecording, Transfer agent
    id_entry  NoInput (≤ 2 times)     → id_entry:  Say enter-ID, Collect 18
    lookup    StatusFound text        → main:      Say text, Say menu, Collect 1
    transfer / ended: every input     → same state, no actions
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lendline.domain.identity import is_valid_id_number

PROMPTS: dict[str, dict[str, str]] = {
    "zh": {
        "welcome": "您好，欢迎致电贷款服务热线。",
        "menu": "查询贷款产品请按1，还款请按2，查询申请进度请按3，人工服务请按0。",
        "menu_speech": "您也可以直接说出您要办理的业务。",
        "products": "我们提供个人消费贷款和小微企业经营贷款，最快当天放款，详情请咨询人工客服。",
        "repayment": "您可以通过手机银行或自动扣款还款，每月还款日前请保证账户余额充足。",
        "enter_id": "请输入您的十八位身份证号码，最后一位是X请按星号键，输入完毕请按井号键。",
        "id_invalid": "号码有误，请重新输入。",
        "invalid": "输入有误。",
        "connecting": "正在为您转接人工服务，请稍候。",
        "goodbye": "感谢您的来电，再见。",
    },
    "en": {
        "welcome": "Welcome to the loan service line.",
        "menu": "For loan products press 1, for repayment press 2, for application status "
        "press 3, to speak to an agent press 0.",
        "menu_speech": "You can also say what you need.",
        "products": "We offer personal consumer loans and small business loans, paid out as "
        "soon as the same day. An agent can tell you more.",
        "repayment": "You can repay through mobile banking or by direct debit. Please keep "
        "enough balance before each due date.",
        "enter_id": "Please key in your eighteen character ID number, star for X, then hash.",
        "id_invalid": "That number is not valid. Please enter it again.",
        "invalid": "Sorry, that is not an option.",
        "connecting": "Connecting you to an agent. Please hold.",
        "goodbye": "Thank you for calling. Goodbye.",
    },
}

# Spoken choices: keyword → menu key (checked in order; first match wins).
SPEECH_CHOICES: tuple[tuple[str, str], ...] = (
    ("人工", "0"), ("客服", "0"), ("agent", "0"), ("operator", "0"),
    ("产品", "1"), ("贷款", "1"), ("product", "1"),
    ("还款", "2"), ("repay", "2"),
    ("进度", "3"), ("申请", "3"), ("状态", "3"), ("status", "3"),
    ("one", "1"), ("two", "2"), ("three", "3"), ("zero", "0"),
)  # fmt: skip
MAX_RETRIES = 3


# ---- inputs ----
@dataclass(frozen=True, slots=True)
class Start:
    pass


@dataclass(frozen=True, slots=True)
class Keys:
    digits: str


@dataclass(frozen=True, slots=True)
class Said:
    text: str


@dataclass(frozen=True, slots=True)
class NoInput:
    pass


@dataclass(frozen=True, slots=True)
class StatusFound:
    text: str


IvrInput = Start | Keys | Said | NoInput | StatusFound


# ---- actions ----
@dataclass(frozen=True, slots=True)
class Say:
    key: str
    text: str


@dataclass(frozen=True, slots=True)
class Collect:
    max_digits: int
    terminators: str = "#"
    timeout_s: float = 8.0
    speech: bool = False  # also listen for a spoken choice (ASR configured)


@dataclass(frozen=True, slots=True)
class PauseRecording:
    pass


@dataclass(frozen=True, slots=True)
class ResumeRecording:
    pass


@dataclass(frozen=True, slots=True)
class LookupStatus:
    id_number: str


@dataclass(frozen=True, slots=True)
class Transfer:
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


IvrAction = Say | Collect | PauseRecording | ResumeRecording | LookupStatus | Transfer | Hangup


@dataclass
class IvrMenu:
    """The menu for one call. ``lang`` zh | en; ``speech`` when an ASR engine is configured."""

    lang: str = "zh"
    speech: bool = False
    state: str = "start"
    retries: int = 0
    choices: list[str] = field(default_factory=list)  # what the caller chose, in order

    def _say(self, key: str) -> Say:
        return Say(key, PROMPTS["zh" if self.lang.startswith("zh") else "en"][key])

    def _menu(self, *lead: str) -> list[IvrAction]:
        out: list[IvrAction] = [self._say(k) for k in lead]
        out.append(self._say("menu"))
        if self.speech:
            out.append(self._say("menu_speech"))
        out.append(Collect(1, terminators="", speech=self.speech))
        return out

    def _id_prompt(self, key: str) -> list[IvrAction]:
        return [self._say(key), Collect(18, terminators="#", timeout_s=15.0)]

    def _transfer(self, reason: str) -> list[IvrAction]:
        self.state = "transfer"
        return [self._say("connecting"), Transfer("agent", reason)]

    def handle(self, event: IvrInput) -> list[IvrAction]:
        """Feed one input; the actions to carry out, in order."""
        if self.state in ("transfer", "ended"):
            return []
        if self.state == "start":
            self.state = "main"
            return self._menu("welcome") if isinstance(event, Start) else self._menu()
        if self.state == "main":
            return self._main(event)
        if self.state == "id_entry":
            return self._id_entry(event)
        if self.state == "lookup" and isinstance(event, StatusFound):
            self.state = "main"
            self.retries = 0
            return [Say("status", event.text), *self._menu()]
        return []

    def _main(self, event: IvrInput) -> list[IvrAction]:
        if isinstance(event, NoInput):
            self.retries += 1
            if self.retries >= MAX_RETRIES:
                return self._transfer("no_input")
            return self._menu()
        key = None
        if isinstance(event, Keys):
            key = event.digits[:1]
        elif isinstance(event, Said):
            key = choice_from_speech(event.text)
        if key not in ("0", "1", "2", "3"):
            return self._menu("invalid")
        self.retries = 0
        self.choices.append(key)
        if key == "0":
            return self._transfer("caller_request")
        if key == "1":
            return self._menu("products")
        if key == "2":
            return self._menu("repayment")
        self.state = "id_entry"
        return [PauseRecording(), *self._id_prompt("enter_id")]

    def _id_entry(self, event: IvrInput) -> list[IvrAction]:
        if isinstance(event, Keys):
            number = event.digits.replace("*", "X")
            if is_valid_id_number(number):
                self.state = "lookup"
                self.retries = 0
                return [ResumeRecording(), LookupStatus(number)]
        elif not isinstance(event, NoInput):
            return []
        self.retries += 1
        if self.retries >= MAX_RETRIES:
            return [ResumeRecording(), *self._transfer("id_entry_failed")]
        return self._id_prompt("id_invalid" if isinstance(event, Keys) else "enter_id")


def choice_from_speech(text: str) -> str | None:
    """The menu key a spoken phrase means, or ``None``."""
    t = text.lower()
    for word, key in SPEECH_CHOICES:
        if word in t:
            return key
    return None
