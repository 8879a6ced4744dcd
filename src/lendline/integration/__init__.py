"""Adapters to the lender's systems (CRM, loan origination, risk, SMS gateway)."""
