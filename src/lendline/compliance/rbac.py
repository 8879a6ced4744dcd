"""Who may do what: the one role × action table.

Every HTTP endpoint declares its action with ``Depends(require("<action>"))``; a role not
listed for the action gets 403 ``{"error": "forbidden"}`` and the refusal is audited.
Row scoping (an agent sees only its own calls and the customer of its current call; a team
lead its team; compliance officers everything, read-only) is applied by the services on top.

Each feature keeps its actions in its own section below.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    SUPERVISOR = "supervisor"
    COMPLIANCE_OFFICER = "compliance_officer"
    ADMIN = "admin"


A, L, S, C, D = (
    Role.AGENT,
    Role.TEAM_LEAD,
    Role.SUPERVISOR,
    Role.COMPLIANCE_OFFICER,
    Role.ADMIN,
)
ALL = frozenset(Role)
STAFF = frozenset({L, S, D})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # --- session (core) ---
    "session.me": ALL,
    # --- routing: calls, queues, agents, rules ---
    "calls.create": frozenset({S, D}),
    "calls.read": ALL,  # scoped: agents their own, leads their team
    "calls.control": frozenset({A, L, S}),  # accept, hang up, transfer, disposition
    "queues.read": ALL,
    "agents.read": frozenset({L, S, C, D}),
    "agents.state": frozenset({A, L, S, D}),  # agents their own state only
    "rules.read": frozenset({L, S, C, D}),
    "rules.reload": frozenset({D}),
    # --- outbound campaigns ---
    "campaigns.read": frozenset({L, S, C, D}),
    "campaigns.manage": frozenset({S, D}),
    "campaigns.dial": frozenset({S, D}),  # the dialer (an API key) takes dials and reports outcomes
    # --- compliance ---
    "recordings.search": ALL,  # scoped: agents their own calls, leads their team
    "recordings.play": frozenset({A, L, S, C}),  # scoped like search; admins do not listen
    "recordings.download": frozenset({L, S, C}),  # one file at a time; no bulk for agents
    "recordings.hold": frozenset({C}),  # legal hold on / off
    "recordings.purge": frozenset({C}),  # only past retention and not on hold
    "vault.keys": frozenset({D}),  # list master keys, rotate, retire
    "audit.read": frozenset({C, D}),
    "audit.verify": frozenset({C, D}),
    "exports.csv": frozenset({C}),  # watermarked, audited
    "customers.unmask": frozenset({S, C}),  # needs a reason; audited
    "policy.read": frozenset({L, S, C, D}),
    "policy.check": ALL,
    "policy.decisions": frozenset({L, S, C}),
    "dnc.add": frozenset({A, L, S, C}),
    "dnc.remove": frozenset({C}),
    "otp.start": frozenset({A, L, S}),
    "otp.confirm": frozenset({A, L, S}),
    "rates.submit": frozenset({A, L, S}),
    "rates.read": frozenset({L, S, C}),
    "rates.decide": frozenset({S, C}),  # the checker; never the maker (enforced by the service)
    "apikeys.manage": frozenset({D}),
    "users.unlock": frozenset({D}),
    # --- dialogue ---
    "conversations.create": frozenset({A, L, S, D}),  # channels use an API key of such a role
    "conversations.message": frozenset({A, L, S, D}),
    "conversations.read": frozenset({L, S, C, D}),
    # --- desktop ---
    "desktop.view": frozenset({A, L, S, D}),  # agent page, own screen pop, push socket
    "customers.read": frozenset({A, L, S, C}),  # agents: only the customer of their call
    "wallboard.view": frozenset({L, S, C, D}),
    "supervise.listen": frozenset({L, S}),  # listen-in / whisper / barge
    "reports.read": frozenset({L, S, C, D}),
    "reports.export": frozenset({S, C, D}),  # CSV download
    "webhooks.manage": frozenset({D}),
    # --- telephony ---
    "telephony.read": frozenset({L, S, C, D}),  # SIP status, registered phones
    "telephony.credentials": frozenset({A, D}),  # SIP passwords: agents their own
    "telephony.staff_credentials": frozenset({L, S, D}),  # supervisors' phones: their own
}


# Data views: every *allowed* use of these actions is audited too (who looked at what), by
# ``web.auth.require``; refusals of every action are always audited.
AUDITED_VIEWS: frozenset[str] = frozenset(
    {"customers.read", "conversations.read", "recordings.search", "audit.read", "reports.export"}
)


def allowed(role: str, action: str) -> bool:
    """True when ``role`` may perform ``action``; unknown actions are refused."""
    roles = PERMISSIONS.get(action)
    if roles is None:
        return False
    try:
        return Role(role) in roles
    except ValueError:
        return False
