"""Built-in actions a flow state may name (``action: <name>``).

Each action reads the context and slots, asks the ``DialogueBackend`` port, and returns an
``ActionResult``: an ``outcome`` the flow branches on (``on: {ok: …, none: …}``), ``vars``
for the prompts, and context updates. The logic here is pure; the port does the I/O.

Actions and outcomes::

    verify_identity        ok | mismatch | locked | missing
    credit_precheck        likely | partial | unlikely | review | none
    match_products         ok | none
    application_status     ok | none
    repayment_info         ok | none
    early_repayment_quote  ok | none
    collection_summary     overdue | due | none
    list_documents         ok
    record_promise         ok | past | too_late | none
    record_unable_to_pay   ok | none
    open_ticket            ok
    stop_calling           ok | none
    send_upload_link       ok | no_phone
"""

from __future__ import annotations

from lendline.dialogue.actions.account import (
    application_status,
    collection_summary,
    credit_precheck,
    early_repayment_quote,
    list_documents,
    match_products,
    repayment_info,
    verify_identity,
)
from lendline.dialogue.actions.base import (
    MAX_VERIFY_FAILURES,
    PROMISE_HORIZON_DAYS,
    Action,
    ActionResult,
)
from lendline.dialogue.actions.record import (
    open_ticket,
    record_promise,
    record_unable_to_pay,
    send_upload_link,
    stop_calling,
)

BUILTIN_ACTIONS: dict[str, Action] = {
    f.__name__: f
    for f in (
        verify_identity,
        credit_precheck,
        match_products,
        application_status,
        repayment_info,
        collection_summary,
        list_documents,
        early_repayment_quote,
        record_promise,
        record_unable_to_pay,
        open_ticket,
        stop_calling,
        send_upload_link,
    )
}

OUTCOMES: dict[str, frozenset[str]] = {
    "verify_identity": frozenset({"ok", "mismatch", "locked", "missing"}),
    "credit_precheck": frozenset({"likely", "partial", "unlikely", "review", "none"}),
    "match_products": frozenset({"ok", "none"}),
    "application_status": frozenset({"ok", "none"}),
    "repayment_info": frozenset({"ok", "none"}),
    "collection_summary": frozenset({"overdue", "due", "none"}),
    "list_documents": frozenset({"ok"}),
    "early_repayment_quote": frozenset({"ok", "none"}),
    "record_promise": frozenset({"ok", "past", "too_late", "none"}),
    "record_unable_to_pay": frozenset({"ok", "none"}),
    "open_ticket": frozenset({"ok"}),
    "stop_calling": frozenset({"ok", "none"}),
    "send_upload_link": frozenset({"ok", "no_phone"}),
}  # the table in this module's docstring, for checking flows when they load

__all__ = [
    "BUILTIN_ACTIONS",
    "MAX_VERIFY_FAILURES",
    "OUTCOMES",
    "PROMISE_HORIZON_DAYS",
    "Action",
    "ActionResult",
]
