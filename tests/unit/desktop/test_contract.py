"""docs/connectors-openapi.yaml (the lender's contract) matches the records we validate."""

from pathlib import Path

import pytest
import yaml

from lendline.integration import api

DOC = Path(__file__).resolve().parents[3] / "docs" / "connectors-openapi.yaml"
SCHEMAS = yaml.safe_load(DOC.read_text(encoding="utf-8"))["components"]["schemas"]


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("CustomerProfile", api.CustomerProfile),
        ("Contact", api.Contact),
        ("Loan", api.Loan),
        ("Repayment", api.Repayment),
        ("RiskFlag", api.RiskFlagEntry),
        ("RiskReport", api.RiskReport),
    ],
)
def test_documented_fields_are_the_validated_fields(name: str, model: type) -> None:
    schema = SCHEMAS[name]
    assert set(schema["properties"]) == set(model.model_fields)
    required = {k for k, f in model.model_fields.items() if f.is_required()}
    assert set(schema.get("required", [])) == required


def test_documented_loan_statuses_are_the_domain_ones() -> None:
    from lendline.domain.customer import LoanStatus

    assert SCHEMAS["Loan"]["properties"]["status"]["enum"] == [s.value for s in LoanStatus]
