"""HTTP routes of the compliance feature (modules under ``lendline.web.compliance``)."""

from __future__ import annotations

from fastapi import APIRouter

from lendline.web.compliance import admin, data, otp, policy, recordings

router = APIRouter()
for _module in (recordings, policy, otp, data, admin):
    router.include_router(_module.router)
