"""Text normalisation and tokenisation shared by every intent model.

NFKC folds full-width forms (ＡＢＣ１２３ → ABC123) that Chinese IMEs and ASR emit;
lower-casing makes English case-blind; jieba cuts Chinese into words, and the character
n-grams the models add on top absorb ASR homophones and typos (代款 / 贷款).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

_SPACE_RE = re.compile(r"\s+")
_PUNCT_RE = re.compile(r"[，。！？、；：,.!?;:\"'“”‘’（）()【】\[\]…~～·]+")
# Frequent ASR confusions in lending calls: one canonical spelling before features.
_HOMOPHONES: dict[str, str] = {
    "代款": "贷款",
    "带款": "贷款",
    "袋款": "贷款",
    "待款": "贷款",
    "利系": "利息",
    "利细": "利息",
    "换款": "还款",
    "环款": "还款",
    "还宽": "还款",
    "额渡": "额度",
    "人工客服": "人工 客服",
}
_HOMOPHONE_RE = re.compile("|".join(map(re.escape, _HOMOPHONES)))


def normalise(text: str) -> str:
    """NFKC, lower-case, punctuation to spaces, ASR homophones folded, spaces squeezed."""
    s = unicodedata.normalize("NFKC", text).lower()
    s = _HOMOPHONE_RE.sub(lambda m: _HOMOPHONES[m.group()], s)
    s = _PUNCT_RE.sub(" ", s)
    return _SPACE_RE.sub(" ", s).strip()


@lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba words of already-normalised text (English comes out as space-split words)."""
    jieba = _jieba()
    return [w for w in jieba.lcut(text) if w.strip()]  # type: ignore[attr-defined]
