from lendline.domain.call import Call
from lendline.errors import NotFound
from lendline.integration.screenpop import Connectors, ScreenPopAssembler

from .fakes import Behaviour, FakeCustomers, FakeLoans, FakeRisk, dead


def _call(**kw: object) -> Call:
    values: dict[str, object] = {
        "call_id": "c1",
        "caller": "+8613812345678",
        "customer_id": "C000001",
        "queue": "collections",
        "agent_id": "agent01",
        "rule": "overdue_to_collections",
        "routing_reason": "逾期 12 天 → 催收",
    }
    values.update(kw)
    return Call(**values)  # type: ignore[arg-type]


async def test_full_pop_is_masked_and_carries_routing_reason_and_flags() -> None:
    a = ScreenPopAssembler(Connectors(FakeCustomers(), FakeLoans(), FakeRisk()), deadline_s=0.5)
    pop = await a.assemble(_call(), "agent01")
    assert pop["missing"] == []
    assert pop["customer"]["name"] == "张**"
    assert pop["customer"]["phone"] == "138****5678"
    assert pop["customer"]["id_number"] == "110105********002X"
    assert pop["call"]["caller"] == "138****5678"
    assert pop["call"]["rule"] == "overdue_to_collections"
    assert [ln["status_zh"] for ln in pop["loans"]] == ["逾期", "审批中"]
    assert {f["flag"]: f["severity"] for f in pop["risk_flags"]} == {
        "multi_borrowing": "warn",
        "fraud_suspected": "high",
    }
    assert pop["risk_flags"][0]["label_zh"] == "多头借贷"
    assert "13812345678" not in str(pop)  # phone in a contact summary is masked too
    assert pop["bot"] is None


async def test_slow_system_is_marked_missing_and_pop_arrives_by_the_deadline() -> None:
    slow = FakeRisk(Behaviour(delay_s=2.0))
    a = ScreenPopAssembler(Connectors(FakeCustomers(), FakeLoans(), slow), deadline_s=0.1)
    late: list[tuple[str, dict[str, object]]] = []

    async def on_late(part: str, partial: dict[str, object]) -> None:
        late.append((part, partial))

    pop = await a.assemble(_call(), "agent01", on_late=on_late)
    assert pop["elapsed_ms"] < 1000
    assert pop["customer"] is not None and pop["loans"]
    assert [(m["part"], m["code"], m["label_zh"]) for m in pop["missing"]] == [
        ("risk", "timeout", "风控系统未响应")
    ]


async def test_dead_and_unknown_systems_are_reported_not_raised() -> None:
    a = ScreenPopAssembler(
        Connectors(FakeCustomers(), FakeLoans(dead()), FakeRisk()), deadline_s=0.5
    )
    pop = await a.assemble(_call(customer_id="C999"), "agent01")
    codes = {m["part"]: m["code"] for m in pop["missing"]}
    assert codes == {
        "customer": "not_found",
        "loans": "upstream_unavailable",
        "repayments": "upstream_unavailable",
    }
    assert pop["risk_flags"]  # what did arrive is shown


async def test_unidentified_caller_and_bot_context() -> None:
    a = ScreenPopAssembler(Connectors(FakeCustomers(), FakeLoans(), FakeRisk()), deadline_s=0.5)
    ctx = {
        "intent": "application_status",
        "slots": {"id_number": "11010519491231002X", "loan_type": "personal"},
        "verification": {"id_verified": True},
        "transcript": [
            {"speaker": "bot", "text": "您好，请问有什么可以帮您？"},
            {"speaker": "caller", "text": "我的手机13812345678，想查审批进度"},
        ],
    }
    pop = await a.assemble(_call(customer_id=None, context=ctx), "agent01")
    assert pop["customer"] is None
    assert pop["missing"][0]["code"] == "unidentified"
    assert pop["bot"]["intent"] == "application_status"
    assert pop["bot"]["slots"]["id_number"] == "110105********002X"
    assert pop["bot"]["verification"] == {"id_verified": True}
    assert "138****5678" in pop["bot"]["transcript"][1]["text"]


def test_not_found_is_a_lendline_error() -> None:
    assert NotFound("x").http_status == 404


class _LocalCustomers:
    """A connector on local tables: the assembler calls its ``*_sync`` methods in one hop."""

    local = True

    def __init__(self, fail_contacts: bool = False) -> None:
        self.fail_contacts = fail_contacts

    def profile_sync(self, customer_id: str) -> object:
        import threading

        self.thread = threading.current_thread().name
        from .fakes import CUSTOMER

        return CUSTOMER

    def contacts_sync(self, customer_id: str) -> list[object]:
        if self.fail_contacts:
            raise RuntimeError("disk on fire")
        return []


async def test_local_parts_share_one_worker_thread_and_fail_one_by_one() -> None:
    import threading

    local = _LocalCustomers(fail_contacts=True)
    a = ScreenPopAssembler(Connectors(local, FakeLoans(), FakeRisk()), deadline_s=0.5)  # type: ignore[arg-type]
    pop = await a.assemble(_call(), "agent01")
    assert local.thread != threading.current_thread().name
    assert pop["customer"]["name"] == "张**"
    assert [(m["part"], m["code"]) for m in pop["missing"]] == [("contacts", "upstream_error")]
    assert pop["loans"] and pop["risk_flags"]


class _GarbledRisk:
    async def risk(self, customer_id: str) -> object:
        return {"flags": "not a report"}  # an adapter bug: not a RiskReport


async def test_a_garbled_part_is_marked_missing_and_the_rest_shown() -> None:
    a = ScreenPopAssembler(Connectors(FakeCustomers(), FakeLoans(), _GarbledRisk()), deadline_s=0.5)  # type: ignore[arg-type]
    pop = await a.assemble(_call(), "agent01")
    assert [(m["part"], m["code"]) for m in pop["missing"]] == [("risk", "upstream_error")]
    assert pop["customer"] is not None and pop["loans"]


async def test_the_deadline_counts_time_already_spent_since_the_reservation() -> None:
    slow = FakeRisk(Behaviour(delay_s=0.3))
    a = ScreenPopAssembler(Connectors(FakeCustomers(), FakeLoans(), slow), deadline_s=0.5)
    full = await a.assemble(_call(), "agent01")
    assert full["missing"] == []  # 0.3 s fits in 0.5 s
    late = await a.assemble(_call(), "agent01", spent_s=0.35)  # only 0.15 s left
    assert [m["part"] for m in late["missing"]] == ["risk"]
