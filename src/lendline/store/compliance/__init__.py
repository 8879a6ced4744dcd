"""Database-backed services of the compliance feature (audit log, OTP, contact policy,
rate reviews, API keys, login guard). The decisions themselves are in ``lendline.compliance``."""
