"""Wiring of the compliance feature into the container."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lendline.app import Container


def wire(container: Container) -> None:
    """Build the compliance services and register them on ``container.services``."""
