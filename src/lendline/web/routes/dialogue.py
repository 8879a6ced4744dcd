"""HTTP routes of the dialogue feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
