from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lendline.app import build_container
from lendline.demo.seed import seed_demo_data
from lendline.store.customers import CustomerRepository
from lendline.store.models import CustomerRow
from tests.conftest import make_settings


def test_demo_seed_is_reproducible_and_seals_sensitive_fields(
    tmp_path: Path, database_url: str
) -> None:
    c = build_container(make_settings(tmp_path, database_url))
    try:
        summary = seed_demo_data(c)
        assert "120 customers" in summary
        assert "already seeded" in seed_demo_data(c)  # idempotent
        with c.db.session() as s:
            row = s.scalars(select(CustomerRow).where(CustomerRow.customer_id == "C000001")).one()
            assert b"+86" not in row.phone_cipher  # sealed at rest
            repo = CustomerRepository(s, c.field_cipher)
            cust = repo.get("C000001")
            assert cust.phone_e164.startswith("+861")
            assert repo.by_phone(cust.phone_e164) is not None
            assert repo.by_id_number(cust.id_number.lower()) is not None
            assert cust.last_contact_at is None or cust.last_contact_at.tzinfo is not None
            first_name = cust.name
    finally:
        c.db.dispose()
    # same seed, fresh database → same data
    c2 = build_container(make_settings(tmp_path / "b", database_url.replace("lendline.db", "b.db")))
    try:
        if "sqlite" in database_url:
            from lendline.store.migrate import upgrade

            upgrade(c2.settings.effective_database_url)
            seed_demo_data(c2)
            with c2.db.session() as s:
                assert CustomerRepository(s, c2.field_cipher).get("C000001").name == first_name
    finally:
        c2.db.dispose()
