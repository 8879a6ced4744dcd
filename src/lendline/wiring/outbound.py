"""Wiring of outbound campaigns: the campaign service asks the contact policy before each dial."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lendline.outbound.run import PolicyDecision
from lendline.outbound.service import CampaignService

if TYPE_CHECKING:
    from lendline.app import Container


def wire(container: Container) -> None:
    def policy(customer_id: str, at: datetime, purpose: str) -> PolicyDecision:
        contact_policy = container.services.get("contact_policy")
        if contact_policy is None:  # never dial without a policy to ask
            return PolicyDecision(False, ("no_contact_policy",))
        d = contact_policy.decide(customer_id, purpose=purpose, at=at, actor="campaign")
        return PolicyDecision(bool(d.allowed), tuple(d.reasons), d.next_allowed_at)

    container.services["campaigns"] = CampaignService(container.db, policy)
