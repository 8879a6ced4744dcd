"""HTTP connectors to the lender's CRM, loan origination and risk engine (httpx).

Each request has a timeout; connection errors, timeouts and 5xx answers are retried with
exponential backoff; repeated failures open a circuit breaker so a dead system costs
nothing; good answers are cached for ``cache_ttl_s``. The contract the lender implements
is docs/connectors-openapi.yaml. Failures raise ``UpstreamError`` with a stable code:
``upstream_timeout``, ``upstream_unavailable``, ``upstream_circuit_open``,
``upstream_malformed``; an unknown customer raises ``NotFound``.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic
import structlog

from lendline.clock import Clock, SystemClock
from lendline.errors import NotFound, UpstreamError
from lendline.integration.api import (
    Contact,
    ContactList,
    CustomerProfile,
    Loan,
    LoanList,
    Repayment,
    RepaymentList,
    RiskReport,
)
from lendline.integration.resilience import CircuitBreaker, TTLCache

log = structlog.get_logger(__name__)
M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Timeouts in seconds; ``retries`` extra attempts after the first."""

    timeout_s: float = 0.8
    retries: int = 2
    backoff_s: float = 0.05  # first retry waits backoff_s, then ×2, plus up to 50 % jitter
    cache_ttl_s: float = 30.0
    breaker_failures: int = 5
    breaker_open_s: float = 10.0


class LenderHttp:
    """One lender service (base URL) with its breaker and cache."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        policy: HttpPolicy | None = None,
        clock: Clock | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.policy = policy or HttpPolicy()
        self.clock = clock or SystemClock()
        self.breaker = CircuitBreaker(
            failure_threshold=self.policy.breaker_failures, open_s=self.policy.breaker_open_s
        )
        self.cache: TTLCache[Any] = TTLCache(ttl_s=self.policy.cache_ttl_s)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(self.policy.timeout_s),
            headers={"accept": "application/json", **(headers or {})},
            transport=transport,
        )
        self._rng = random.Random()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, model: type[M]) -> M:
        """GET ``path`` and validate it as ``model``; cached, retried, behind the breaker."""
        now = self.clock.monotonic()
        cached = self.cache.get(path, now)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        last: UpstreamError | None = None
        for attempt in range(self.policy.retries + 1):
            if not self.breaker.allow(self.clock.monotonic()):
                raise UpstreamError(
                    f"{self.name}: circuit open after repeated failures",
                    code="upstream_circuit_open",
                )
            try:
                value = await self._once(path, model)
            except UpstreamError as exc:
                self.breaker.record_failure(self.clock.monotonic())
                last = exc
                if exc.code == "upstream_malformed":
                    break  # the same bytes will come back: don't hammer
                if attempt < self.policy.retries:
                    delay = self.policy.backoff_s * (2**attempt)
                    await asyncio.sleep(delay * (1 + 0.5 * self._rng.random()))
                continue
            self.breaker.record_success()
            self.cache.put(path, value, self.clock.monotonic())
            return value
        assert last is not None
        log.warning("connector_failed", system=self.name, path=path, code=last.code)
        raise last

    async def _once(self, path: str, model: type[M]) -> M:
        try:
            resp = await self._client.get(path)
        except httpx.TimeoutException:
            raise UpstreamError(f"{self.name}: timed out", code="upstream_timeout") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"{self.name}: {type(exc).__name__}", code="upstream_unavailable"
            ) from None
        if resp.status_code == 404:
            raise NotFound(f"{self.name}: {path} not found", code="customer_not_found")
        if resp.status_code >= 500 or resp.status_code == 429:
            raise UpstreamError(
                f"{self.name}: HTTP {resp.status_code}", code="upstream_unavailable"
            )
        if resp.status_code != 200:
            raise UpstreamError(f"{self.name}: HTTP {resp.status_code}", code="upstream_malformed")
        try:
            return model.model_validate_json(resp.content)
        except pydantic.ValidationError as exc:
            raise UpstreamError(
                f"{self.name}: malformed answer ({exc.error_count()} errors)",
                code="upstream_malformed",
            ) from None


def _seg(customer_id: str) -> str:
    """The customer id as one URL path segment (``/`` and ``?`` escaped)."""
    return quote(customer_id, safe="")


class HttpCustomers:
    """CRM over HTTP: ``GET /customers/{id}``, ``GET /customers/{id}/contacts?limit=``."""

    def __init__(self, http: LenderHttp) -> None:
        self.http = http

    async def profile(self, customer_id: str) -> CustomerProfile:
        return await self.http.get(f"/customers/{_seg(customer_id)}", CustomerProfile)

    async def contacts(self, customer_id: str, limit: int = 5) -> list[Contact]:
        got = await self.http.get(
            f"/customers/{_seg(customer_id)}/contacts?limit={limit}", ContactList
        )
        return got.contacts[:limit]


class HttpLoans:
    """Loan origination over HTTP: ``/customers/{id}/loans`` and ``/repayments``."""

    def __init__(self, http: LenderHttp) -> None:
        self.http = http

    async def loans(self, customer_id: str) -> list[Loan]:
        return (await self.http.get(f"/customers/{_seg(customer_id)}/loans", LoanList)).loans

    async def repayments(self, customer_id: str, limit: int = 12) -> list[Repayment]:
        got = await self.http.get(
            f"/customers/{_seg(customer_id)}/repayments?limit={limit}", RepaymentList
        )
        return got.repayments[:limit]


class HttpRisk:
    """Risk engine over HTTP: ``GET /customers/{id}/risk``."""

    def __init__(self, http: LenderHttp) -> None:
        self.http = http

    async def risk(self, customer_id: str) -> RiskReport:
        return await self.http.get(f"/customers/{_seg(customer_id)}/risk", RiskReport)
