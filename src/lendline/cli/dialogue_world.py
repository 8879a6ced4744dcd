"""A throw-away world for conversation stories: a temporary SQLite database with demo
customers, a manual clock at the demo's "today", and the real conversation service."""

from __future__ import annotations

import base64
import tempfile
import time
from pathlib import Path
from typing import Any

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.demo.seed import REFERENCE_NOW
from lendline.dialogue.backend import CustomerFacts
from lendline.dialogue.model import Reply
from lendline.dialogue.service import ConversationService
from lendline.dialogue.stories import StoryCustomer
from lendline.domain.identity import id_check_char
from lendline.settings import load_settings
from lendline.store.dialogue import add_demo_customers
from lendline.store.migrate import upgrade

WORLD_CUSTOMERS = 300


def _traits(c: CustomerFacts) -> set[str]:
    out = {"any"}
    clean = not ({"blacklist", "fraud_suspected"} & set(c.risk_flags))
    if c.credit_score >= 650 and clean:
        out.add("good_credit")
    if clean and any(ln.overdue_days > 0 and ln.outstanding_fen > 0 for ln in c.loans):
        out.add("overdue")
    if any(ln.status in ("applied", "reviewing", "approved") for ln in c.loans):
        out.add("applicant")
    if any(ln.status == "repaying" and ln.next_due_date for ln in c.loans) and not any(
        ln.overdue_days for ln in c.loans
    ):
        out.add("repaying")
    if not any(ln.outstanding_fen for ln in c.loans):
        out.add("no_loans_due")
    return out


class StoryWorld:
    """Implements both ``StoryDriver`` and ``CustomerPicker`` over a fresh container."""

    def __init__(self, *, nlu_model: str = "encoder", customers: int = WORLD_CUSTOMERS) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="lendline-stories-")
        root = Path(self._tmp.name)
        url = f"sqlite:///{root / 'stories.db'}"
        upgrade(url)
        settings = load_settings(
            data_dir=root / "var",
            database_url=url,
            master_key=base64.b64encode(b"s" * 32).decode(),
            sip_enabled=False,
            nlu_model=nlu_model,
            session_secret="stories",
        )
        self.container: Container = build_container(settings, clock=ManualClock(REFERENCE_NOW))
        people = add_demo_customers(
            self.container.db, self.container.field_cipher, customers, seed=settings.demo_seed
        )
        backend = self.container.services["dialogue_backend"]
        self.by_trait: dict[str, list[StoryCustomer]] = {}
        ids = [p.id_number for p in people]
        for n, p in enumerate(people):
            facts = backend.customer(p.customer_id)
            other = ids[(n + 1) % len(ids)]
            wrong = p.id_number[:17] + ("0" if id_check_char(p.id_number[:17]) != "0" else "1")
            values = {
                "id_number": p.id_number,
                "birth_date": f"{p.birth_date.year}年{p.birth_date.month}月{p.birth_date.day}日"
                if p.birth_date
                else "",
                "phone_last4": p.phone_e164[-4:],
                "wrong_id_number": wrong,
                "other_id_number": other,
            }
            sc = StoryCustomer(p.customer_id, p.phone_e164, values)
            for t in sorted(_traits(facts)):
                self.by_trait.setdefault(t, []).append(sc)
        self._used: dict[str, int] = {}
        self.turn_ms: list[float] = []  # wall time of each caller turn (NLU + engine + store)

    @property
    def service(self) -> ConversationService:
        svc: ConversationService = self.container.services["dialogue"]
        return svc

    def pick(self, trait: str) -> StoryCustomer | None:
        """A different customer of ``trait`` each time (lockouts must not leak across stories)."""
        pool = self.by_trait.get(trait, [])
        if not pool:
            return None
        i = self._used.get(trait, 0)
        self._used[trait] = i + 1
        return pool[i % len(pool)]

    def open(
        self,
        customer: StoryCustomer | None,
        via: str,
        channel: str,
        language: str,
        flow: str | None,
    ) -> tuple[str, Reply]:
        kw: dict[str, Any] = {}
        if customer is not None:
            kw = (
                {"phone": customer.phone_e164}
                if via == "phone"
                else {"customer_id": customer.customer_id}
            )
        st = self.service.start(channel=channel, language=language, flow=flow, **kw)
        return st.conversation_id, st.reply

    def send(self, conversation_id: str, text: str, dtmf: str) -> Reply:
        t0 = time.perf_counter()
        try:
            return self.service.message(conversation_id, text=text, dtmf=dtmf)
        finally:
            self.turn_ms.append((time.perf_counter() - t0) * 1000)

    def completed(self, conversation_id: str) -> list[str]:
        return list(self.service.store.load(conversation_id).completed)

    def close(self) -> None:
        self.container.db.dispose()
        self._tmp.cleanup()
