"""Assemble the agent's screen pop from the connectors, concurrently, under a deadline.

Every part (profile, loans, repayments, risk flags, recent contacts) is fetched at once;
whatever has arrived when ``deadline_s`` expires goes into the pop and the rest is listed
under ``missing`` with a reason the agent can read ("风控系统未响应"). A slow or dead
lender system therefore never delays the pop past the deadline and never blocks routing.
Parts that arrive late are handed to ``on_late`` so the desktop can fill them in.
Customer data leaves here masked (``compliance.masking``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from lendline.domain.call import Call
from lendline.errors import LendlineError, NotFound
from lendline.integration.api import (
    CustomerSystem,
    LoanSystem,
    RiskSystem,
)
from lendline.integration.pop_views import (
    bot_view,
    call_view,
    contact_view,
    customer_view,
    loan_view,
    repayment_view,
    risk_view,
)

log = structlog.get_logger(__name__)

# part -> (system label zh, system label en)
PART_SYSTEMS: dict[str, tuple[str, str]] = {
    "customer": ("客户系统", "CRM"),
    "contacts": ("客户系统", "CRM"),
    "loans": ("信贷系统", "loan system"),
    "repayments": ("信贷系统", "loan system"),
    "risk": ("风控系统", "risk engine"),
}
LateHandler = Callable[[str, Any], Awaitable[None]]
_LATE: set[asyncio.Future[None]] = set()  # keeps late-part deliveries alive until done


@dataclass(slots=True)
class Connectors:
    customers: CustomerSystem
    loans: LoanSystem
    risk: RiskSystem


class ScreenPopAssembler:
    """Builds the pop for one call; ``deadline_s`` bounds the wait for every connector."""

    def __init__(self, connectors: Connectors, *, deadline_s: float = 0.8) -> None:
        self.connectors = connectors
        self.deadline_s = deadline_s

    def _jobs(self, customer_id: str) -> dict[asyncio.Future[Any], list[str]]:
        """One task per remote part; every local part (``local = True``: lendline's own
        tables) fetched together in a single worker thread, so a pop costs one hop."""
        c = self.connectors
        specs: dict[str, tuple[Any, str]] = {
            "customer": (c.customers, "profile"),
            "loans": (c.loans, "loans"),
            "repayments": (c.loans, "repayments"),
            "risk": (c.risk, "risk"),
            "contacts": (c.customers, "contacts"),
        }
        local = {
            part: getattr(obj, f"{method}_sync")
            for part, (obj, method) in specs.items()
            if getattr(obj, "local", False)
        }
        tasks: dict[asyncio.Future[Any], list[str]] = {}
        if local:
            tasks[asyncio.ensure_future(asyncio.to_thread(_run_local, local, customer_id))] = list(
                local
            )
        for part, (obj, method) in specs.items():
            if part not in local:
                tasks[asyncio.ensure_future(getattr(obj, method)(customer_id))] = [part]
        return tasks

    async def assemble(
        self,
        call: Call,
        agent_id: str,
        *,
        on_late: LateHandler | None = None,
        spent_s: float = 0.0,
    ) -> dict[str, Any]:
        """The pop; ``spent_s`` of the deadline already went (since the reservation)."""
        t0 = time.perf_counter()
        budget_s = max(0.02, self.deadline_s - max(0.0, spent_s))
        pop: dict[str, Any] = {
            "call_id": call.call_id,
            "agent_id": agent_id,
            "call": call_view(call),
            "bot": bot_view(call.context),
            "customer": None,
            "loans": [],
            "repayments": [],
            "risk_flags": [],
            "contacts": [],
            "missing": [],
        }
        if call.customer_id:
            await self._gather(pop, call.customer_id, on_late, budget_s)
        else:
            pop["missing"].append(_missing("customer", "unidentified"))
        pop["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        return pop

    async def _gather(
        self, pop: dict[str, Any], customer_id: str, on_late: LateHandler | None, budget_s: float
    ) -> None:
        tasks = self._jobs(customer_id)
        done, pending = await asyncio.wait(tasks, timeout=budget_s)
        for task in done:
            for part, value, exc in _outcomes(task, tasks[task]):
                if exc is None:
                    try:
                        _apply(pop, part, value)
                        continue
                    except (AttributeError, TypeError, ValueError) as bad:
                        exc = bad  # an adapter returned something unexpected
                code = exc.code if isinstance(exc, LendlineError) else "upstream_error"
                if isinstance(exc, NotFound):
                    code = "not_found"
                if not isinstance(exc, LendlineError):
                    log.warning("connector_crashed", part=part, error=type(exc).__name__)
                pop["missing"].append(_missing(part, code))
        for task in pending:
            for part in tasks[task]:
                pop["missing"].append(_missing(part, "timeout"))
            if on_late is not None:
                task.add_done_callback(_late_callback(tasks[task], on_late))
            else:
                task.cancel()
        pop["missing"].sort(key=lambda m: m["part"])


def _run_local(fetchers: dict[str, Callable[[str], Any]], customer_id: str) -> _Batch:
    """Run the local fetchers one after another in this (worker) thread."""
    out = _Batch()
    for part, fetch in fetchers.items():
        try:
            out[part] = fetch(customer_id)
        except Exception as exc:
            out[part] = _Failed(exc)
    return out


class _Batch(dict[str, Any]):
    """The results of the local fetchers, by part (a value or ``_Failed``)."""


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _outcomes(
    task: asyncio.Future[Any], parts: list[str]
) -> list[tuple[str, Any, BaseException | None]]:
    """(part, value, error) for each part a finished task carried."""
    exc = task.exception()
    if exc is not None:
        return [(p, None, exc) for p in parts]
    result = task.result()
    if not isinstance(result, _Batch):  # one remote part
        return [(parts[0], result, None)]
    out: list[tuple[str, Any, BaseException | None]] = []
    for p in parts:
        v = result[p]
        out.append((p, None, v.exc) if isinstance(v, _Failed) else (p, v, None))
    return out


def _late_callback(parts: list[str], on_late: LateHandler) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            return
        for part, value, exc in _outcomes(task, parts):
            if exc is not None:
                continue
            partial: dict[str, Any] = {}
            _apply(partial, part, value)
            late = asyncio.ensure_future(on_late(part, partial))
            _LATE.add(late)
            late.add_done_callback(_LATE.discard)

    return done


def _apply(pop: dict[str, Any], part: str, value: Any) -> None:
    if part == "customer":
        pop["customer"] = customer_view(value)
    elif part == "loans":
        pop["loans"] = [loan_view(v) for v in value]
    elif part == "repayments":
        pop["repayments"] = [repayment_view(v) for v in value]
    elif part == "risk":
        pop["risk_flags"] = risk_view(value)
    elif part == "contacts":
        pop["contacts"] = [contact_view(v) for v in value]


def _missing(part: str, code: str) -> dict[str, str]:
    zh, en = PART_SYSTEMS.get(part, ("外部系统", "external system"))
    if code == "timeout":
        text_zh, text_en = f"{zh}未响应", f"{en} did not answer in time"
    elif code in ("not_found", "unidentified"):
        text_zh, text_en = "未找到客户资料", "customer not found"
    else:
        text_zh, text_en = f"{zh}暂不可用", f"{en} unavailable"
    return {"part": part, "code": code, "label_zh": text_zh, "label_en": text_en}
