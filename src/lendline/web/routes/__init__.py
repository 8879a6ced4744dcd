"""Routers, one module per feature; each exposes ``router`` (an ``APIRouter``)."""
