"""Demo data: ≥1,000 customers with loans and histories, 30 agents, skills and teams.

Everything comes from ``random.Random(settings.demo_seed)`` so two runs give the same data.
Seeding is idempotent: an already seeded database is left as it is.
"""

from __future__ import annotations

import importlib
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from lendline.demo.names import CITIES_AREA, COMPOUND_SURNAMES, GIVEN_CHARS, SURNAMES
from lendline.domain.customer import Customer, LoanAccount, LoanStatus, LoanType, RiskFlag
from lendline.domain.identity import id_check_char
from lendline.store.customers import CustomerRepository
from lendline.store.models import (
    AgentRow,
    AgentSkillRow,
    ContactRow,
    CustomerRow,
    RepaymentRow,
    SkillRow,
    TeamRow,
)

if TYPE_CHECKING:
    from lendline.app import Container

SKILLS = {
    "products": "贷款产品咨询",
    "collections": "催收与还款",
    "complaints": "投诉处理",
    "senior_loans": "大额贷款专席",
    "general": "综合服务",
}
TEAMS = {"team_a": "催收一组", "team_b": "催收二组", "service": "客服组", "vip": "贵宾组"}
PRODUCTS = (  # product, loan type, principal range in yuan, rate range %, terms
    ("consumer", LoanType.PERSONAL, (5_000, 80_000), ("9.9", "18.0"), (6, 12, 24)),
    ("car", LoanType.PERSONAL, (50_000, 300_000), ("5.5", "9.0"), (24, 36, 60)),
    ("mortgage", LoanType.PERSONAL, (300_000, 2_000_000), ("3.6", "4.9"), (120, 240, 360)),
    ("operating", LoanType.BUSINESS, (100_000, 1_000_000), ("4.8", "12.0"), (12, 24, 36)),
    ("micro", LoanType.PERSONAL, (1_000, 20_000), ("12.0", "24.0"), (3, 6, 12)),
)
REFERENCE_NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # demo "today"; fixed for reproducibility
_MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)


def chinese_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2, 2))))
    return surname + given


def mobile(rng: random.Random) -> str:
    return "+86" + rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def id_number(rng: random.Random, birth: date) -> str:
    area = rng.choice(CITIES_AREA)[0]
    first17 = f"{area}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def make_customers(rng: random.Random, n: int) -> list[tuple[Customer, list[LoanAccount]]]:
    out: list[tuple[Customer, list[LoanAccount]]] = []
    seen_phones: set[str] = set()
    for i in range(1, n + 1):
        cid = f"C{i:06d}"
        birth = date(rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28))
        phone = mobile(rng)
        while phone in seen_phones:
            phone = mobile(rng)
        seen_phones.add(phone)
        loans: list[LoanAccount] = []
        for j in range(rng.choice((1, 1, 1, 2, 2, 3))):
            product, ltype, (lo, hi), (rlo, rhi), terms = rng.choice(PRODUCTS)
            principal_yuan = rng.randrange(lo, hi, 1000) if hi - lo > 1000 else lo
            rate = (Decimal(rlo) + (Decimal(rhi) - Decimal(rlo)) * Decimal(rng.random())).quantize(
                Decimal("0.01")
            )
            status = rng.choices(list(LoanStatus), weights=(4, 6, 3, 2, 3, 40, 12, 10), k=1)[0]
            overdue = rng.choice((1, 5, 12, 31, 65, 95)) if status is LoanStatus.OVERDUE else 0
            opened = REFERENCE_NOW - timedelta(days=rng.randint(5, 900))
            principal_fen = principal_yuan * 100
            outstanding = (
                0
                if status in (LoanStatus.SETTLED, LoanStatus.REJECTED)
                else int(principal_fen * rng.uniform(0.2, 1.0))
            )
            if status in (LoanStatus.APPLIED, LoanStatus.REVIEWING, LoanStatus.APPROVED):
                outstanding = 0  # not disbursed yet: nothing owed (the draw keeps the sequence)
            term = rng.choice(terms)
            due = (
                REFERENCE_NOW + timedelta(days=rng.randint(-overdue if overdue else 1, 30))
            ).date()
            loans.append(
                LoanAccount(
                    loan_id=f"L{i:06d}{j}",
                    customer_id=cid,
                    product=product,
                    loan_type=ltype,
                    principal_fen=principal_fen,
                    outstanding_fen=outstanding,
                    rate_pct=rate,
                    term_months=term,
                    status=status,
                    overdue_days=overdue,
                    next_due_date=due if outstanding else None,
                    next_due_fen=int(principal_fen / term * 1.05) if outstanding else 0,
                    opened_at=opened,
                )
            )
        flags: set[RiskFlag] = set()
        for flag, p in (
            (RiskFlag.MULTI_BORROWING, 0.08),
            (RiskFlag.FRAUD_SUSPECTED, 0.02),
            (RiskFlag.BLACKLIST, 0.01),
            (RiskFlag.LITIGATION, 0.02),
        ):
            if rng.random() < p:
                flags.add(flag)
        overdue_days = max(ln.overdue_days for ln in loans)
        first_call = rng.random() < 0.3
        last_contact = (
            None if first_call else REFERENCE_NOW - timedelta(hours=rng.randint(2, 24 * 60))
        )
        main = max(loans, key=lambda ln: ln.principal_fen)
        c = Customer(
            customer_id=cid,
            name=chinese_name(rng),
            phone_e164=phone,
            id_number=id_number(rng, birth),
            birth_date=birth,
            credit_score=int(min(850, max(350, rng.gauss(640, 80)))),
            loan_amount_fen=sum(ln.principal_fen for ln in loans),
            product=main.product,
            overdue_days=overdue_days,
            first_call=first_call,
            last_contact_at=last_contact,
            risk_flags=frozenset(flags),
            vip=main.principal_fen >= 1_000_000_00,
            segment="business" if main.loan_type is LoanType.BUSINESS else "retail",
            team=rng.choice(("team_a", "team_b")) if overdue_days else None,
            quiet_hours_consent=rng.random() < 0.05,
        )
        out.append((c, loans))
    return out


def make_agents(rng: random.Random) -> list[tuple[str, str, str, dict[str, int]]]:
    """30 agents: (agent_id, name, team, skills→proficiency)."""
    plan = (
        ["products"] * 8
        + ["collections"] * 9
        + ["complaints"] * 4
        + ["senior_loans"] * 4
        + ["general"] * 5
    )
    agents = []
    for i, primary in enumerate(plan, start=1):
        skills = {"general": rng.randint(4, 9), primary: rng.randint(5, 10)}
        secondary = rng.choice([s for s in SKILLS if s not in skills])
        if rng.random() < 0.6:
            skills[secondary] = rng.randint(2, 6)
        team = {"collections": rng.choice(("team_a", "team_b")), "senior_loans": "vip"}.get(
            primary, "service"
        )
        agents.append((f"agent{i:02d}", chinese_name(rng), team, skills))
    return agents


def seed_demo_data(container: Container) -> str:
    """Seed the demo data unless already there; returns a one-line summary."""
    settings = container.settings
    rng = random.Random(settings.demo_seed)
    with container.db.session() as s:
        existing = s.scalar(select(func.count()).select_from(CustomerRow)) or 0
        if existing:
            summary = f"already seeded ({existing} customers)"
        else:
            for name, desc in SKILLS.items():
                s.add(SkillRow(name=name, description=desc))
            for tid, tname in TEAMS.items():
                s.add(TeamRow(team_id=tid, name=tname))
            s.flush()
            for agent_id, name, team, skills in make_agents(rng):
                row = AgentRow(agent_id=agent_id, name=name, team_id=team, sip_user=agent_id)
                row.skills = [AgentSkillRow(skill=k, proficiency=v) for k, v in skills.items()]
                s.add(row)
            repo = CustomerRepository(s, container.field_cipher)
            customers = make_customers(rng, settings.demo_customers)
            for c, _loans in customers:
                repo.add(c)
            s.flush()
            for _c, loans in customers:
                for ln in loans:
                    repo.add_loan(ln)
            s.flush()
            _histories(s, rng, customers)
            summary = f"{len(customers)} customers, 30 agents, {len(SKILLS)} skills"
            summary += "; " + _demo_users(s, settings.demo_password, container.services)
    from lendline.app import FEATURES

    for feature in FEATURES:
        module = importlib.import_module(f"lendline.wiring.{feature}")
        seed = getattr(module, "seed_demo", None)
        if seed is not None:
            extra = seed(container)
            if extra:
                summary += f"; {extra}"
    container.services.pop("demo_generated_password", None)  # not kept in memory after seeding
    return summary


def _histories(s, rng: random.Random, customers: list[tuple[Customer, list[LoanAccount]]]) -> None:  # type: ignore[no-untyped-def]
    outcomes = ("resolved", "promise_to_pay", "callback_requested", "complaint_logged", "no_answer")
    summaries = (
        "咨询贷款利率",
        "查询审批进度",
        "询问还款日期",
        "申请提前还款",
        "催收提醒",
        "投诉利息过高",
        "更新联系方式",
        "询问所需材料",
    )
    for c, loans in customers:
        for ln in loans:
            if ln.status in (LoanStatus.REPAYING, LoanStatus.OVERDUE, LoanStatus.SETTLED):
                months = min(ln.term_months, rng.randint(2, 8))
                for m in range(months, 0, -1):
                    due = (REFERENCE_NOW - timedelta(days=30 * m)).date()
                    late = ln.status is LoanStatus.OVERDUE and m == 1
                    s.add(
                        RepaymentRow(
                            loan_id=ln.loan_id,
                            due_date=due,
                            amount_fen=ln.next_due_fen or 100_00,
                            paid_fen=0 if late else (ln.next_due_fen or 100_00),
                            paid_at=None
                            if late
                            else datetime.combine(due, datetime.min.time(), UTC),
                            status="missed" if late else "paid",
                        )
                    )
        if c.last_contact_at is not None:
            for k in range(rng.randint(1, 4)):
                at = c.last_contact_at - timedelta(days=k * rng.randint(3, 40))
                s.add(
                    ContactRow(
                        customer_id=c.customer_id,
                        at=at,
                        channel=rng.choice(("call", "call", "sms", "bot")),
                        direction=rng.choice(("inbound", "outbound")),
                        purpose="collection" if c.overdue_days else "service",
                        agent_id=f"agent{rng.randint(1, 30):02d}",
                        connected=rng.random() < 0.8,
                        summary=rng.choice(summaries),
                        outcome=rng.choice(outcomes),
                    )
                )


DEMO_STAFF = (
    ("lead01", "team_lead", "team_a"),
    ("supervisor01", "supervisor", None),
    ("compliance01", "compliance_officer", None),
    ("admin", "admin", None),
)


def _demo_users(s, password: str, services: dict[str, object]) -> str:  # type: ignore[no-untyped-def]
    """agent01…agent30, lead01, supervisor01, compliance01, admin — one password (also the
    agents' SIP password: a generated one is handed to the telephony seed)."""
    import secrets

    from lendline.store.users import UserRepository

    shown = password or secrets.token_urlsafe(9)
    if not password:
        services["demo_generated_password"] = shown
    users = UserRepository(s)
    for row in s.scalars(select(AgentRow).order_by(AgentRow.agent_id)).all():
        users.create(
            row.agent_id,
            shown,
            "agent",
            display_name=row.name,
            agent_id=row.agent_id,
            team_id=row.team_id,
        )
    for username, role, team in DEMO_STAFF:
        users.create(username, shown, role, team_id=team)
    if password:
        return "users agent01…agent30, lead01, supervisor01, compliance01, admin (demo password)"
    return (
        "users agent01…agent30, lead01, supervisor01, compliance01, admin; "
        f"generated password (shown once): {shown}"
    )
