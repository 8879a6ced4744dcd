"""HTTP routes of the telephony feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
