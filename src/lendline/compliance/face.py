"""Face verification as a second confirmation: an interface and a stub for tests.

No real provider ships with lendline; a lender plugs its own (a vendor SDK or HTTP service)
behind ``FaceVerifier``. ``StubFaceVerifierForTests`` is **for tests only** and is never
enabled by default (``face_verifier = ""`` in the settings means no face step at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FaceResult:
    matched: bool
    score: float  # 0..1, provider's similarity
    provider: str


class FaceVerifier(Protocol):
    def verify(self, customer_id: str, image: bytes) -> FaceResult: ...


class StubFaceVerifierForTests:
    """FOR TESTS ONLY: matches when the image bytes equal the registered bytes."""

    provider = "stub-for-tests"

    def __init__(self) -> None:
        self._enrolled: dict[str, bytes] = {}

    def enroll(self, customer_id: str, image: bytes) -> None:
        self._enrolled[customer_id] = image

    def verify(self, customer_id: str, image: bytes) -> FaceResult:
        ok = self._enrolled.get(customer_id) == image and bool(image)
        return FaceResult(ok, 1.0 if ok else 0.0, self.provider)
