"""The dialogue engine: interprets flows, turn by turn, with no I/O of its own.

``start(ctx)`` greets; ``handle(ctx, UserInput)`` takes one caller turn and returns a
``Reply``. The context carries all state (the flow stack, slots, counters), so the same
engine serves every conversation, on text and on voice. Actions reach the outside world
only through the ``DialogueBackend`` port they are given.

How a caller turn at a waiting state is decided (first rule that applies wins)::

    no input                       silences+1; re-prompt; at max_silences end the call
    (below, "progress" = this turn gave the state's slot a new value)
    intent human_agent (≥ θ)       unless progress: hand off (reason customer_request)
    intent goodbye (≥ θ)           unless progress: say goodbye, end
    a filled slot changed and the  acknowledge, go to flow.corrections[slot]
      flow lists it in corrections   (at states that ask no slot)
    intent in state.on_intent (≥θ) go to that state
    progress / free_text state     store, go to state.next (acknowledging a correction)
    a filled slot changed          acknowledge and ask again
    intent starts another flow(≥θ) switch to it (main resumes at anything_else after)
    otherwise                      misses+1; re-ask (naming an invalid slot); at
                                   state.max_misses hand off (reason low_confidence)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from lendline.dialogue.actions import BUILTIN_ACTIONS, Action
from lendline.dialogue.backend import DialogueBackend
from lendline.dialogue.flow import LOCAL_SLOTS, Flow, State, Text
from lendline.dialogue.model import ConversationContext, Frame, Handoff, InputHint, Reply, UserInput
from lendline.dialogue.render import (
    PHRASES,
    SENSITIVE_SLOTS,
    mask_user_text,
    masked_slots,
    prompt_values,
    render,
)
from lendline.dialogue.understanding import Understanding, Understood
from lendline.errors import Conflict, RuleError

_DOB = re.compile(r"((?:19|20)\d{2})\s*[年\-/.]?\s*(\d{1,2})\s*[月\-/.]?\s*(\d{1,2})\s*[日号]?")
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_MAX_STEPS = 40


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


class _Turn:
    """What one call to ``start``/``handle`` says and does."""

    def __init__(self) -> None:
        self.zh: list[str] = []
        self.en: list[str] = []
        self.actions: list[str] = []
        self.handoff: Handoff | None = None

    def say(self, t: Text, ctx: ConversationContext) -> None:
        self.zh.append(render(t, True, prompt_values(ctx.slots, ctx.vars, True)))
        self.en.append(render(t, False, prompt_values(ctx.slots, ctx.vars, False)))


DTMF_NUMBER_SLOTS = frozenset({"amount", "term_months"})


class DialogueEngine:
    """Runs ``flows`` (must include ``main``) with ``understanding`` and ``actions``.

    ``threshold`` is the confidence (0..1) below which an intent is not acted upon;
    ``max_silences`` consecutive no-input turns end the conversation.
    """

    def __init__(
        self,
        flows: Mapping[str, Flow],
        understanding: Understanding,
        backend: DialogueBackend,
        *,
        actions: Mapping[str, Action] | None = None,
        threshold: float = 0.5,
        max_silences: int = 3,
    ) -> None:
        self.flows = dict(flows)
        self.nlu = understanding
        self.backend = backend
        self.actions = dict(actions or BUILTIN_ACTIONS)
        self.threshold = threshold
        self.max_silences = max_silences
        self.triggers: dict[str, str] = {}
        for fl in self.flows.values():
            for intent in fl.intents:
                self.triggers.setdefault(intent, fl.name)
        main = self.flows.get("main")
        if main is None or "anything_else" not in main.states:
            raise RuleError("the main flow needs an 'anything_else' state", code="invalid_flow")

    # --- public API ---
    def start(self, ctx: ConversationContext, flow: str | None = None) -> Reply:
        """Greet (main flow), or open ``flow`` directly (e.g. an outbound reminder)."""
        out = _Turn()
        if flow is None:
            ctx.stack = [Frame("main", self.flows["main"].start)]
            self._run(ctx, out)
        else:
            self._switch(ctx, flow, out, "")
        return self._reply(ctx, out, None)

    def handle(self, ctx: ConversationContext, inp: UserInput) -> Reply:
        if ctx.status != "active" or not ctx.stack:
            raise Conflict("the conversation has ended", code="conversation_closed")
        out = _Turn()
        st = self._state(ctx)
        if inp.is_no_input:
            ctx.transcript.append({"role": "user", "text": ""})
            self._silence(ctx, st, out)
            return self._reply(ctx, out, None)
        ctx.silences = 0
        u = self._understand(ctx, st, inp)
        ctx.intents.append(
            {"intent": u.intent, "confidence": round(u.confidence, 3), "state": ctx.where}
        )
        self._decide(ctx, st, u, inp, out)
        return self._reply(ctx, out, u)

    # --- deciding a turn ---
    def _understand(self, ctx: ConversationContext, st: State, inp: UserInput) -> Understood:
        raw = inp.text.strip()
        if inp.dtmf and not raw:
            keys = inp.dtmf.strip().rstrip("#")
            mapped = st.dtmf.get(keys)
            if mapped is not None:
                ctx.transcript.append({"role": "user", "text": f"[DTMF {keys}]"})
                if st.slot:
                    return Understood("dtmf", 1.0, {st.slot: mapped})
                return Understood(mapped, 1.0)
            raw = keys.replace("*", "X")
        sensitive = st.slot in SENSITIVE_SLOTS
        ctx.transcript.append({"role": "user", "text": mask_user_text(raw, sensitive)})
        today = date.fromisoformat(ctx.today)
        u = self.nlu.understand(raw, today=today, lang=ctx.language)
        slots = dict(u.slots)
        if st.slot in LOCAL_SLOTS:
            slots = {}  # digits here are a birth date or phone digits, not an amount
            sf = second_factor(raw)
            if sf:
                slots[st.slot] = sf
        elif st.choices and st.slot:
            for value, words in st.choices.items():
                if any(w in raw for w in words):
                    slots[st.slot] = value
                    break
        elif inp.dtmf and not inp.text.strip() and st.slot in DTMF_NUMBER_SLOTS and raw.isdigit():
            # keyed digits are the number itself: "500000#" is 500,000 yuan, "24#" 24 months
            return Understood("dtmf", 1.0, {st.slot: int(raw)})
        if st.free_text:
            slots[st.free_text] = mask_user_text(raw, False)[:500]
        return Understood(u.intent, u.confidence, slots, dict(u.slot_errors), u.ranking)

    def _decide(
        self, ctx: ConversationContext, st: State, u: Understood, inp: UserInput, out: _Turn
    ) -> None:
        flow = self.flows[ctx.stack[-1].flow]
        sure = u.confidence >= self.threshold
        changed = {k for k, v in u.slots.items() if k in ctx.slots and ctx.slots[k] != v}
        fresh = {k for k in u.slots if k not in ctx.slots}
        ctx.slots.update(u.slots)
        target = st.slot or st.free_text
        progress = bool(st.slot and st.slot in (fresh | changed))
        if sure and u.intent == "human_agent" and not progress:
            return self._handoff(ctx, flow.queue, "customer_request", out)
        if sure and u.intent == "goodbye" and not progress and not st.free_text:
            out.say(PHRASES["bye"], ctx)
            ctx.status, ctx.stack = "ended", []
            return None
        hit = next((flow.corrections[k] for k in changed if k in flow.corrections), None)
        if hit is not None and not progress and not st.slot:
            out.say(PHRASES["corrected"], ctx)  # "不对，是企业贷款" beats a "不" read as deny
            return self._goto(ctx, hit, out)
        if sure and u.intent in st.on_intent:
            return self._goto(ctx, st.on_intent[u.intent], out)
        if progress or (st.free_text and target in u.slots):
            if changed - {target}:
                out.say(PHRASES["corrected"], ctx)
            assert st.next is not None
            return self._goto(ctx, st.next, out)
        if changed:
            out.say(PHRASES["corrected"], ctx)
            assert st.say is not None
            out.say(st.say, ctx)
            return None
        other = self.triggers.get(u.intent)
        if sure and other and other != flow.name and not st.free_text:
            return self._switch(ctx, other, out, inp.text)
        bad = next((k for k in u.slot_errors if k == st.slot or k == "id_number"), None)
        self._miss(ctx, st, flow, out, bad)
        return None

    def _miss(
        self, ctx: ConversationContext, st: State, flow: Flow, out: _Turn, bad: str | None
    ) -> None:
        ctx.misses += 1
        if ctx.misses >= st.max_misses:
            self._handoff(ctx, flow.queue, "low_confidence", out)
            return
        out.say(PHRASES.get(f"bad_{bad}", PHRASES["miss"]) if bad else PHRASES["miss"], ctx)
        assert st.say is not None
        out.say(st.say, ctx)

    def _silence(self, ctx: ConversationContext, st: State, out: _Turn) -> None:
        ctx.silences += 1
        if ctx.silences >= self.max_silences:
            out.say(PHRASES["silence_end"], ctx)
            ctx.status, ctx.stack = "ended", []
            out.actions.append("hangup")
            return
        out.say(PHRASES["silence"], ctx)
        assert st.say is not None
        out.say(st.say, ctx)

    # --- moving through states ---
    def _state(self, ctx: ConversationContext) -> State:
        top = ctx.stack[-1]
        return self.flows[top.flow].states[top.state]

    def _goto(self, ctx: ConversationContext, state: str, out: _Turn) -> None:
        ctx.stack[-1].state = state
        ctx.misses = 0
        self._run(ctx, out)

    def _switch(self, ctx: ConversationContext, flow: str, out: _Turn, text: str) -> None:
        """Start ``flow`` on top of main; the words that triggered it may fill its first ask."""
        fl = self.flows[flow]
        ctx.stack = [Frame("main", "anything_else")]
        ctx.stack.append(Frame(flow, fl.start, return_state="anything_else"))
        ctx.misses = 0
        first = fl.states[fl.start]
        if first.slot and first.choices and first.slot not in ctx.slots:
            for value, words in first.choices.items():
                if any(w in text for w in words):
                    ctx.slots[first.slot] = value
                    break
        self._run(ctx, out)

    def _skip(self, ctx: ConversationContext, st: State) -> bool:
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

    def _run(self, ctx: ConversationContext, out: _Turn) -> None:
        """Enter states until one waits for the caller, or the conversation ends/hands off."""
        for _ in range(_MAX_STEPS):
            top = ctx.stack[-1]
            flow = self.flows[top.flow]
            st = flow.states[top.state]
            if self._skip(ctx, st) and st.next:
                top.state = st.next
                continue
            if st.action:
                res = self.actions[st.action](ctx, dict(st.args), self.backend)
                out.actions.append(st.action)
                ctx.vars.update(res.vars)
                ctx.vars["outcome"] = res.outcome
                if st.say:
                    out.say(st.say, ctx)
                nxt = st.on.get(res.outcome) or st.on.get("*") or st.next
                if nxt is None:
                    raise RuleError(
                        f"{flow.source}: {st.name}: no branch for {res.outcome!r}", line=st.line
                    )
                top.state = nxt
                continue
            if st.handoff:
                if st.say:
                    out.say(st.say, ctx)
                self._handoff(ctx, st.handoff[0], st.handoff[1], out, say=st.say is None)
                return
            if st.subflow:
                if st.say:
                    out.say(st.say, ctx)
                assert st.next is not None
                top.state = st.next
                sub = self.flows[st.subflow]
                ctx.stack.append(Frame(sub.name, sub.start, return_state=st.next))
                continue
            if st.waits:
                if st.say:
                    out.say(st.say, ctx)
                return
            if st.say:
                out.say(st.say, ctx)
            if st.end == "conversation":
                ctx.status, ctx.stack = "ended", []
                return
            if st.end == "flow":
                done = ctx.stack.pop()
                if done.flow not in ctx.completed:
                    ctx.completed.append(done.flow)
                if not ctx.stack:
                    ctx.status = "ended"
                    return
                ctx.stack[-1].state = done.return_state or ctx.stack[-1].state
                continue
            top.state = st.next or top.state
        raise RuleError(
            f"flow {ctx.where} loops without waiting for the caller", code="invalid_flow"
        )

    def _handoff(
        self, ctx: ConversationContext, queue: str, reason: str, out: _Turn, *, say: bool = True
    ) -> None:
        if say:
            out.say(PHRASES["handoff_low" if reason == "low_confidence" else "handoff"], ctx)
        out.actions.append("request_human")
        where = ctx.where
        ctx.status, ctx.handoff_reason = "handed_off", reason
        context: dict[str, Any] = {
            "conversation_id": ctx.conversation_id,
            "channel": ctx.channel,
            "reason": reason,
            "queue": queue,
            "customer_id": ctx.customer_id,
            "verified": ctx.verified,
            "verify_failures": ctx.verify_failures,
            "state": where,
            "intents": ctx.intents[-20:],
            "slots": masked_slots(ctx.slots),
            "completed": list(ctx.completed),
            "transcript": ctx.transcript[-40:],
            "ticket_no": ctx.vars.get("ticket_no"),
        }
        out.handoff = Handoff(queue, reason, context)
        ctx.stack = []

    def _reply(self, ctx: ConversationContext, out: _Turn, u: Understood | None) -> Reply:
        zh, en = "".join(out.zh), " ".join(out.en)
        text = zh if ctx.zh else en
        ctx.transcript.append({"role": "bot", "text": text})
        hint = InputHint()
        if ctx.stack and ctx.status == "active":
            st = self._state(ctx)
            hint = InputHint(
                st.slot or st.free_text,
                tuple(sorted(st.dtmf)),
                st.dtmf_digits,
                sensitive=st.slot in SENSITIVE_SLOTS,
            )
        return Reply(
            text=text,
            text_zh=zh,
            text_en=en,
            state=ctx.where if ctx.stack else ctx.status,
            intent=u.intent if u else None,
            confidence=round(u.confidence, 3) if u else None,
            slots=masked_slots(ctx.slots),
            action=out.actions[-1] if out.actions else None,
            actions=tuple(out.actions),
            handoff=out.handoff,
            ended=ctx.status != "active",
            expects=hint,
        )
