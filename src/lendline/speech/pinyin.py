"""Chinese text → numbered pinyin for espeak-ng's ``cmn-latn-pinyin`` voice.

espeak-ng's plain ``cmn`` voice reads many hanzi as English letters ("nin two"); given
pinyin with tone numbers (``nin2 hao3``) the pinyin voice speaks real Mandarin tones.
Digits become Chinese numerals first (quantities up to 99 as 二十三; longer runs such as ID
or phone numbers digit by digit, 1 read 幺 in the telephone manner), and Chinese
punctuation becomes pauses.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DIGITS = "零一二三四五六七八九"
# Readings pypinyin's phrase table gets wrong in a lender's vocabulary.
_PHRASES = {
    "还款": [["huán"], ["kuǎn"]],
    "还清": [["huán"], ["qīng"]],
    "还贷": [["huán"], ["dài"]],
    "应还": [["yīng"], ["huán"]],
    "待还": [["dài"], ["huán"]],
    "提前还": [["tí"], ["qián"], ["huán"]],
    "重新": [["chóng"], ["xīn"]],
    "行业": [["háng"], ["yè"]],
    "银行": [["yín"], ["háng"]],
}
_PUNCT = {"，": ",", "。": ".", "；": ",", "：": ",", "、": ",", "！": ".", "？": "?", "…": "."}


def _quantity(n: int) -> str:
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else _DIGITS[tens]) + "十"
    return head + (_DIGITS[ones] if ones else "")


def numbers_to_hanzi(text: str) -> str:
    """Replace digit runs: ≤ 2 digits as a quantity, longer ones digit by digit."""

    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        if len(s) <= 2:
            return _quantity(int(s))
        return "".join("幺" if c == "1" else _DIGITS[int(c)] for c in s)

    return re.sub(r"\d+", repl, text)


@lru_cache(maxsize=1)
def _pypinyin() -> object:
    import pypinyin

    pypinyin.load_phrases_dict(_PHRASES)
    return pypinyin


def warm() -> None:
    """Load pypinyin and its phrase table now (about 0.6 s, most of it one ``json.loads``
    that holds the GIL). Done lazily, it ran in a worker thread during the first call's
    first prompt and starved the SIP event loop past T1 = 0.5 s; the TTS warms at build."""
    _pypinyin()


def to_pinyin(text: str) -> str:
    """``您好，请按1`` → ``nin2 hao3, qing3 an4 yi1`` (tone 5 = neutral)."""
    import pypinyin

    _pypinyin()
    text = numbers_to_hanzi(text)
    for zh, ascii_ in _PUNCT.items():
        text = text.replace(zh, f" {ascii_} ")
    syllables = pypinyin.lazy_pinyin(
        text, style=pypinyin.Style.TONE3, neutral_tone_with_five=True, errors="default"
    )
    out = " ".join(s.strip() for s in syllables if s.strip())
    out = out.replace("幺", "yao1").replace("ü", "v")
    return re.sub(r"\s+([,.?])", r"\1", out)
