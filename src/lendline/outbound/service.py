"""Campaigns on the store: create, add targets, hand out paced dials, record outcomes.

Each request loads the campaign's targets into a ``CampaignRun`` (the pure core), applies
the step and writes the changes back in one unit of work, so several nodes can share a
campaign through the database. Every dial and every policy refusal is kept as an attempt.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lendline.errors import NotFound
from lendline.outbound.campaign import Campaign, parse_campaign
from lendline.outbound.run import (
    CampaignRun,
    Dial,
    Outcome,
    PolicyCheck,
    Refusal,
    Target,
    TargetState,
)
from lendline.store.base import Database
from lendline.store.models import CustomerRow
from lendline.store.models_outbound import CampaignAttemptRow, CampaignRow, CampaignTargetRow


class CampaignService:
    def __init__(self, db: Database, policy: PolicyCheck) -> None:
        self.db = db
        self.policy = policy

    def create(self, definition: str, *, by: str, at: datetime) -> dict[str, Any]:
        campaign = parse_campaign(definition)  # RuleError with line on bad input
        cid = "CP" + uuid.uuid4().hex[:10].upper()
        with self.db.session() as s:
            s.add(
                CampaignRow(
                    campaign_id=cid,
                    name=campaign.name,
                    purpose=campaign.purpose,
                    definition=definition,
                    status="active",
                    created_by=by,
                    created_at=at,
                    tokens=float(campaign.dials_per_minute),
                    tokens_at=at,
                )
            )
        return {"campaign_id": cid, "name": campaign.name, "purpose": campaign.purpose}

    def _row(self, s: Session, campaign_id: str) -> CampaignRow:
        row = s.get(CampaignRow, campaign_id)
        if row is None:
            raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found")
        return row

    def add_targets(
        self, campaign_id: str, *, at: datetime, customer_ids: list[str] | None = None
    ) -> int:
        """Add customers (given, or all the campaign's selection matches); returns how many."""
        with self.db.session() as s:
            row = self._row(s, campaign_id)
            campaign = parse_campaign(row.definition)
            existing = set(
                s.scalars(
                    select(CampaignTargetRow.customer_id).where(
                        CampaignTargetRow.campaign_id == campaign_id
                    )
                )
            )
            if customer_ids is None:
                rows = s.execute(
                    select(CustomerRow.customer_id, CustomerRow.overdue_days, CustomerRow.product)
                ).all()
                wanted = [cid for cid, od, prod in rows if campaign.selects(od, prod)]
            else:
                found = set(
                    s.scalars(
                        select(CustomerRow.customer_id).where(
                            CustomerRow.customer_id.in_(customer_ids)
                        )
                    )
                )
                missing = [c for c in customer_ids if c not in found]
                if missing:
                    raise NotFound(f"no customer {missing[0]!r}", code="customer_not_found")
                wanted = customer_ids
            new = [c for c in dict.fromkeys(wanted) if c not in existing]
            for c in new:
                s.add(
                    CampaignTargetRow(
                        campaign_id=campaign_id,
                        customer_id=c,
                        stage=0,
                        attempts=0,
                        state=TargetState.PENDING.value,
                        next_at=at,
                    )
                )
            return len(new)

    def _load(
        self, s: Session, row: CampaignRow
    ) -> tuple[Campaign, CampaignRun, dict[str, CampaignTargetRow]]:
        campaign = parse_campaign(row.definition)
        trows = {
            t.customer_id: t
            for t in s.scalars(
                select(CampaignTargetRow).where(CampaignTargetRow.campaign_id == row.campaign_id)
            )
        }
        run = CampaignRun(campaign)
        for cid, t in trows.items():
            run.targets[cid] = Target(
                cid, t.next_at, t.stage, t.attempts, TargetState(t.state), t.result, t.resolved_by
            )
        run.tokens, run.tokens_at = row.tokens, row.tokens_at
        return campaign, run, trows

    @staticmethod
    def _save(run: CampaignRun, row: CampaignRow, trows: dict[str, CampaignTargetRow]) -> None:
        row.tokens, row.tokens_at = run.tokens, run.tokens_at
        for cid, t in run.targets.items():
            tr = trows[cid]
            tr.stage, tr.attempts, tr.state = t.stage, t.attempts, t.state.value
            tr.next_at, tr.result, tr.resolved_by = t.next_at, t.result, t.resolved_by

    def next_dials(
        self, campaign_id: str, *, at: datetime, limit: int | None = None
    ) -> tuple[list[Dial], list[Refusal]]:
        with self.db.session() as s:
            row = self._row(s, campaign_id)
            if row.status != "active":
                return [], []
            _campaign, run, trows = self._load(s, row)
            dials, refusals = run.due(at, self.policy, limit=limit)
            self._save(run, row, trows)
            for d in dials:
                s.add(
                    CampaignAttemptRow(
                        campaign_id=campaign_id,
                        customer_id=d.customer_id,
                        at=at,
                        kind="dial",
                        stage=d.stage,
                        detail=f"{d.kind}#{d.attempt}",
                    )
                )
            for r in refusals:
                s.add(
                    CampaignAttemptRow(
                        campaign_id=campaign_id,
                        customer_id=r.customer_id,
                        at=at,
                        kind="refusal",
                        stage=0,
                        detail=",".join(r.reasons)[:200],
                    )
                )
            return dials, refusals

    def record_outcome(
        self, campaign_id: str, customer_id: str, outcome: Outcome | str, *, at: datetime
    ) -> Target:
        with self.db.session() as s:
            row = self._row(s, campaign_id)
            _campaign, run, trows = self._load(s, row)
            target = run.record(customer_id, outcome, at)
            self._save(run, row, trows)
            s.add(
                CampaignAttemptRow(
                    campaign_id=campaign_id,
                    customer_id=customer_id,
                    at=at,
                    kind="outcome",
                    stage=target.stage,
                    detail=str(Outcome(outcome)),
                )
            )
            return target

    def set_status(self, campaign_id: str, status: str) -> None:
        with self.db.session() as s:
            self._row(s, campaign_id).status = status

    def summary(self, campaign_id: str) -> dict[str, Any]:
        with self.db.session() as s:
            row = self._row(s, campaign_id)
            _c, run, _t = self._load(s, row)
            attempts = s.scalar(
                select(func.count())
                .select_from(CampaignAttemptRow)
                .where(
                    CampaignAttemptRow.campaign_id == campaign_id, CampaignAttemptRow.kind == "dial"
                )
            )
            return {
                "campaign_id": campaign_id,
                "name": row.name,
                "purpose": row.purpose,
                "status": row.status,
                "targets": len(run.targets),
                "dials": attempts or 0,
                "counts": run.summary(),
            }

    def list(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            ids = list(s.scalars(select(CampaignRow.campaign_id).order_by(CampaignRow.created_at)))
        return [self.summary(i) for i in ids]
