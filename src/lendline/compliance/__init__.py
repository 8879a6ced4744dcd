"""Compliance: policy, masking, OTP, RBAC, audit, recording vault crypto. No I/O in the core."""
