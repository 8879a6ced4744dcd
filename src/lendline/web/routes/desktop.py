"""HTTP routes of the desktop feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
