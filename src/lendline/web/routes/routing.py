"""HTTP routes of the routing feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
