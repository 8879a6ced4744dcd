"""Reproducible demo data."""
