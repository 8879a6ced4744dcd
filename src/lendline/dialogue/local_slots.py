"""Slots the engine fills itself (second identity factor, keyword choices, keys) and the
``skip_if`` conditions of states.

``dob_or_last4`` holds ``dob:YYYY-MM-DD`` (a date of birth, said or keyed as 8 digits) or
``last4:NNNN`` (the last four digits of the phone on file).
"""

from __future__ import annotations

import re
from datetime import date

from lendline.dialogue.flow import LOCAL_SLOTS, State
from lendline.dialogue.model import ConversationContext, UserInput
from lendline.dialogue.render import SENSITIVE_SLOTS, mask_user_text
from lendline.dialogue.understanding import Understanding, Understood

_DOB = re.compile(r"((?:19|20)\d{2})\s*[年\-/.]?\s*(\d{1,2})\s*[月\-/.]?\s*(\d{1,2})\s*[日号]?")
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
DTMF_NUMBER_SLOTS = frozenset({"amount", "term_months"})
YES_NO_KEYS = {"1": "affirm", "2": "deny"}


def second_factor(text: str) -> str | None:
    """``dob:YYYY-MM-DD`` for a date of birth, ``last4:NNNN`` for four digits, else None."""
    compact = text.replace(" ", "")
    m = _DOB.search(compact)
    if m:
        try:
            return "dob:" + date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    m4 = _LAST4.search(compact)
    return f"last4:{m4[1]}" if m4 else None


def match_choice(choices: dict[str, tuple[str, ...]], text: str) -> str | None:
    """The first choice one of whose keywords occurs in ``text``."""
    for value, words in choices.items():
        if any(w in text for w in words):
            return value
    return None


def should_skip(ctx: ConversationContext, st: State) -> bool:
    """A state whose slot is filled, or whose ``skip_if`` holds, is passed over."""
    if st.slot and st.slot in ctx.slots and not st.action:
        return True
    for c in st.skip_if:
        if (
            (c == "verified" and ctx.verified)
            or (c == "customer_known" and ctx.customer_id)
            or (c.startswith("slot:") and ctx.slots.get(c[5:]) not in (None, ""))
        ):
            return True
    return False


def understand_turn(
    nlu: Understanding, ctx: ConversationContext, st: State, inp: UserInput
) -> Understood:
    """What the caller's turn means in state ``st``: keys mapped by the state, digit strings
    and words through NLU, the engine's own slots; the masked words go to the transcript."""
    raw = inp.text.strip()
    if inp.dtmf and not raw:
        keys = inp.dtmf.strip().rstrip("#")
        mapped = st.dtmf.get(keys)
        if mapped is None and {"affirm", "deny"} & set(st.on_intent):
            mapped = YES_NO_KEYS.get(keys)  # a yes/no question: 1 = yes, 2 = no
        if mapped is not None:
            ctx.transcript.append({"role": "user", "text": f"[DTMF {keys}]"})
            if st.slot:
                return Understood("dtmf", 1.0, {st.slot: mapped})
            return Understood(mapped, 1.0)
        if not st.dtmf_digits and not st.slot:  # a key that means nothing here
            ctx.transcript.append({"role": "user", "text": f"[DTMF {keys}]"})
            return Understood("out_of_scope", 0.0)
        raw = keys.replace("*", "X")
    sensitive = st.slot in SENSITIVE_SLOTS
    ctx.transcript.append({"role": "user", "text": mask_user_text(raw, sensitive)})
    today = date.fromisoformat(ctx.today)
    u = nlu.understand(raw, today=today, lang=ctx.language)
    slots = dict(u.slots)
    if st.slot in LOCAL_SLOTS:
        slots = {}  # digits here are a birth date or phone digits, not an amount
        sf = second_factor(raw)
        if sf:
            slots[st.slot] = sf
    elif st.choices and st.slot:
        choice = match_choice(st.choices, raw)
        if choice is not None:
            slots[st.slot] = choice
    elif inp.dtmf and not inp.text.strip() and st.slot in DTMF_NUMBER_SLOTS and raw.isdigit():
        # keyed digits are the number itself: "500000#" is 500,000 yuan, "24#" 24 months
        return Understood("dtmf", 1.0, {st.slot: int(raw)})
    if st.free_text:
        slots[st.free_text] = mask_user_text(raw, False)[:500]
    return Understood(u.intent, u.confidence, slots, dict(u.slot_errors), u.ranking)
