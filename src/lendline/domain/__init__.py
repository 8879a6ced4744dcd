"""Entities, value objects and events of a lender's call centre. Imports nothing of ours."""
