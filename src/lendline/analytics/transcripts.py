"""Analytics on call and bot transcripts (pillar 3 of the seed article, §3.2).

Two questions a lender asks of its transcripts:

* **Which script phrases convert?** For each phrase an agent or the bot said, the share
  of conversations containing it that ended in a conversion (application submitted,
  promise to pay …), against the share of those that did not contain it: the *lift*, with a
  Wilson 95 % interval so that a phrase said twice does not top the table. Phrases are the
  lender's own script lines (``scripts``) and, discovered automatically, the frequent word
  n-grams (jieba tokens) of staff turns.
* **Which questions recur?** Caller turns that are questions (？/吗/呢/怎么/多少/能不能 …)
  grouped by similarity (TF-IDF over character bigrams, cosine ≥ ``threshold``, greedy
  leader clustering), biggest group first, with a representative question.

Pure functions over ``Transcript`` objects: the store loads them, the CLI and the reports
page print them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STAFF = frozenset({"agent", "bot"})
_QUESTION_MARKERS = (
    "吗",
    "呢",
    "怎么",
    "怎样",
    "什么",
    "多少",
    "几",
    "能不能",
    "可不可以",
    "是否",
    "有没有",
    "哪",
    "为什么",
    "how",
    "what",
    "when",
    "can ",
    "do i",
    "is there",
    "why",
)
_PUNCT = re.compile(r"[\s，。！？、,.!?；;：:“”\"'（）()]+")


@dataclass(frozen=True, slots=True)
class Utterance:
    speaker: str  # caller | agent | bot
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    conversation_id: str
    utterances: tuple[Utterance, ...]
    converted: bool  # the outcome the lender counts as success for this campaign/queue
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class PhraseStat:
    phrase: str
    conversations: int  # conversations where staff said it
    conversions: int
    rate: float  # conversions / conversations
    rate_without: float  # conversion rate of conversations without the phrase
    lift: float  # rate / rate_without (inf when rate_without is 0)
    ci_low: float  # Wilson 95 % interval of ``rate``
    ci_high: float
    scripted: bool  # from the lender's script list (else discovered)


@dataclass(frozen=True, slots=True)
class QuestionCluster:
    representative: str
    count: int
    examples: tuple[str, ...]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def normalise(text: str) -> str:
    return _PUNCT.sub("", text.lower())


def _tokens(text: str) -> list[str]:
    import jieba

    return [t for t in jieba.lcut(normalise(text)) if t.strip()]


def _staff_ngrams(t: Transcript, sizes: range) -> set[str]:
    grams: set[str] = set()
    for u in t.utterances:
        if u.speaker not in STAFF:
            continue
        toks = _tokens(u.text)
        for n in sizes:
            for i in range(len(toks) - n + 1):
                grams.add("".join(toks[i : i + n]))
    return grams


def phrase_effectiveness(
    transcripts: Sequence[Transcript],
    *,
    scripts: Iterable[str] = (),
    discover: bool = True,
    min_support: int = 5,
    ngram_sizes: range = range(3, 6),
) -> list[PhraseStat]:
    """Conversion statistics of script phrases, best lower confidence bound first."""
    total = len(transcripts)
    total_conv = sum(t.converted for t in transcripts)
    staff_text = [
        normalise("".join(u.text for u in t.utterances if u.speaker in STAFF)) for t in transcripts
    ]
    present: dict[str, list[int]] = {}
    scripted = {normalise(s): s for s in scripts if normalise(s)}
    for key in scripted:
        present[key] = [i for i, txt in enumerate(staff_text) if key in txt]
    if discover:
        counts: Counter[str] = Counter()
        per: list[set[str]] = [_staff_ngrams(t, ngram_sizes) for t in transcripts]
        for grams in per:
            counts.update(grams)
        frequent = {g for g, c in counts.items() if c >= min_support and g not in scripted}
        # keep only maximal phrases: drop a gram contained in a longer gram of equal support
        for g in sorted(frequent, key=len):
            if any(g != h and g in h and counts[h] == counts[g] for h in frequent):
                continue
            present[g] = [i for i, grams in enumerate(per) if g in grams]
    stats: list[PhraseStat] = []
    for key, idx in present.items():
        n = len(idx)
        if n == 0 or (key not in scripted and n < min_support):
            continue
        conv = sum(transcripts[i].converted for i in idx)
        rest_n, rest_conv = total - n, total_conv - conv
        rate = conv / n
        rate_without = rest_conv / rest_n if rest_n else 0.0
        lift = rate / rate_without if rate_without else math.inf
        lo, hi = wilson_interval(conv, n)
        phrase = scripted.get(key, key)
        stats.append(PhraseStat(phrase, n, conv, rate, rate_without, lift, lo, hi, key in scripted))
    stats.sort(key=lambda s: (s.ci_low, s.conversations), reverse=True)
    return stats


def is_question(text: str) -> bool:
    t = text.strip().lower()
    return t.endswith(("?", "？")) or any(m in t for m in _QUESTION_MARKERS)


def _bigram_vector(text: str) -> Counter[str]:
    s = normalise(text)
    return Counter(s[i : i + 2] for i in range(max(1, len(s) - 1)))


def frequent_questions(
    transcripts: Iterable[Transcript], *, threshold: float = 0.5, top: int = 20
) -> list[QuestionCluster]:
    """Group the callers' questions by similarity; biggest groups first."""
    questions = [
        u.text.strip()
        for t in transcripts
        for u in t.utterances
        if u.speaker == "caller" and u.text.strip() and is_question(u.text)
    ]
    if not questions:
        return []
    vectors = [_bigram_vector(q) for q in questions]
    df: Counter[str] = Counter()
    for v in vectors:
        df.update(v.keys())
    n = len(questions)

    def weigh(v: Counter[str]) -> dict[str, float]:
        w = {k: c * (math.log((1 + n) / (1 + df[k])) + 1) for k, c in v.items()}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        return {k: x / norm for k, x in w.items()}

    weighted = [weigh(v) for v in vectors]
    leaders: list[int] = []
    members: list[list[int]] = []
    # most common exact questions lead first so that representatives are typical
    order = sorted(
        range(n), key=lambda i: -Counter(map(normalise, questions))[normalise(questions[i])]
    )
    for i in order:
        best, best_sim = -1, threshold
        for c, leader in enumerate(leaders):
            wl, wi = weighted[leader], weighted[i]
            sim = sum(x * wl.get(k, 0.0) for k, x in wi.items())
            if sim >= best_sim:
                best, best_sim = c, sim
        if best < 0:
            leaders.append(i)
            members.append([i])
        else:
            members[best].append(i)
    clusters = []
    for c, m in enumerate(members):
        examples = tuple(dict.fromkeys(questions[j] for j in m))[:5]
        clusters.append(QuestionCluster(questions[leaders[c]], len(m), examples))
    clusters.sort(key=lambda q: q.count, reverse=True)
    return clusters[:top]
