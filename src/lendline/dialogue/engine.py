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

from collections.abc import Mapping

from lendline.dialogue.actions import BUILTIN_ACTIONS, Action
from lendline.dialogue.backend import DialogueBackend
from lendline.dialogue.checks import check_flow_set
from lendline.dialogue.flow import Flow, State
from lendline.dialogue.local_slots import YES_NO_KEYS, match_choice, should_skip, understand_turn
from lendline.dialogue.model import ConversationContext, Frame, Handoff, InputHint, Reply, UserInput
from lendline.dialogue.render import (
    PHRASES,
    SENSITIVE_SLOTS,
    TurnOutput,
    handoff_context,
    masked_slots,
)
from lendline.dialogue.understanding import Understanding, Understood
from lendline.errors import Conflict, RuleError

_MAX_STEPS = 40


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
        check_flow_set(self.flows)

    # --- public API ---
    def start(self, ctx: ConversationContext, flow: str | None = None) -> Reply:
        """Greet (main flow), or open ``flow`` directly (e.g. an outbound reminder)."""
        out = TurnOutput()
        if flow is None:
            ctx.stack = [Frame("main", self.flows["main"].start)]
            self._run(ctx, out)
        else:
            self._switch(ctx, flow, out, "")
        return self._reply(ctx, out, None)

    def handle(self, ctx: ConversationContext, inp: UserInput) -> Reply:
        if ctx.status != "active" or not ctx.stack:
            raise Conflict("the conversation has ended", code="conversation_closed")
        out = TurnOutput()
        st = self._state(ctx)
        if inp.is_no_input:
            ctx.transcript.append({"role": "user", "text": ""})
            self._silence(ctx, st, out)
            return self._reply(ctx, out, None)
        ctx.silences = 0
        u = understand_turn(self.nlu, ctx, st, inp)
        ctx.intents.append(
            {"intent": u.intent, "confidence": round(u.confidence, 3), "state": ctx.where}
        )
        self._decide(ctx, st, u, inp, out)
        return self._reply(ctx, out, u)

    # --- deciding a turn ---
    def _decide(
        self, ctx: ConversationContext, st: State, u: Understood, inp: UserInput, out: TurnOutput
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
        self, ctx: ConversationContext, st: State, flow: Flow, out: TurnOutput, bad: str | None
    ) -> None:
        ctx.misses += 1
        if ctx.misses >= st.max_misses:
            self._handoff(ctx, flow.queue, "low_confidence", out)
            return
        out.say(PHRASES.get(f"bad_{bad}", PHRASES["miss"]) if bad else PHRASES["miss"], ctx)
        again = st.help or st.say
        assert again is not None
        out.say(again, ctx)

    def _silence(self, ctx: ConversationContext, st: State, out: TurnOutput) -> None:
        ctx.silences += 1
        if ctx.silences >= self.max_silences:
            out.say(PHRASES["silence_end"], ctx)
            ctx.status, ctx.stack = "ended", []
            out.actions.append("hangup")
            return
        out.say(PHRASES["silence"], ctx)
        again = st.help or st.say
        assert again is not None
        out.say(again, ctx)

    # --- moving through states ---
    def _state(self, ctx: ConversationContext) -> State:
        top = ctx.stack[-1]
        return self.flows[top.flow].states[top.state]

    def _goto(self, ctx: ConversationContext, state: str, out: TurnOutput) -> None:
        ctx.stack[-1].state = state
        ctx.misses = 0
        self._run(ctx, out)

    def _switch(self, ctx: ConversationContext, flow: str, out: TurnOutput, text: str) -> None:
        """Start ``flow`` on top of main; the words that triggered it may fill its first ask."""
        fl = self.flows[flow]
        ctx.stack = [Frame("main", "anything_else")]
        ctx.stack.append(Frame(flow, fl.start, return_state="anything_else"))
        ctx.misses = 0
        first = fl.states[fl.start]
        if first.slot and first.choices and first.slot not in ctx.slots:
            choice = match_choice(first.choices, text)
            if choice is not None:
                ctx.slots[first.slot] = choice
        self._run(ctx, out)

    def _run(self, ctx: ConversationContext, out: TurnOutput) -> None:
        """Enter states until one waits for the caller, or the conversation ends/hands off."""
        for _ in range(_MAX_STEPS):
            top = ctx.stack[-1]
            flow = self.flows[top.flow]
            st = flow.states[top.state]
            if should_skip(ctx, st) and st.next:
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
            if st.end == "abort":  # e.g. the caller gave up verifying: drop the caller flow too
                ctx.stack = [Frame("main", "anything_else")]
                continue
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
        self,
        ctx: ConversationContext,
        queue: str,
        reason: str,
        out: TurnOutput,
        *,
        say: bool = True,
    ) -> None:
        if say:
            out.say(PHRASES["handoff_low" if reason == "low_confidence" else "handoff"], ctx)
        out.actions.append("request_human")
        where = ctx.where
        ctx.status, ctx.handoff_reason = "handed_off", reason
        context = handoff_context(ctx, queue, reason, where)
        out.handoff = Handoff(queue, reason, context)
        ctx.stack = []

    def _reply(self, ctx: ConversationContext, out: TurnOutput, u: Understood | None) -> Reply:
        zh, en = "".join(out.zh), " ".join(out.en)
        text = zh if ctx.zh else en
        ctx.transcript.append({"role": "bot", "text": text})
        if out.handoff is not None:  # the agent sees the bot's last words too
            out.handoff.context["transcript"] = ctx.transcript[-40:]
        hint = InputHint()
        if ctx.stack and ctx.status == "active":
            st = self._state(ctx)
            keys = set(st.dtmf)
            if {"affirm", "deny"} & set(st.on_intent):
                keys |= set(YES_NO_KEYS)
            hint = InputHint(
                st.slot or st.free_text,
                tuple(sorted(keys)),
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
