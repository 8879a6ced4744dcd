"""lendline — a call system for lenders."""

__version__ = "0.1.0"
