"""The exception tree of lendline.

Callers catch by meaning, not by module::

    LendlineError                 base of everything we raise on purpose
    ├── ConfigError               settings or a configuration file is wrong
    │   └── RuleError             a routing rule / flow / policy file is invalid (carries line)
    ├── ValidationError           a value from outside is malformed (field named)
    ├── NotFound                  an id that does not exist
    ├── Conflict                  the state does not allow the operation
    ├── Forbidden                 the caller's role may not do this
    ├── Unauthorized              no valid credentials
    ├── PolicyViolation           compliance refuses (reason codes)
    ├── ProtocolError
    │   ├── LocalProtocolError    we tried to do something the protocol forbids
    │   └── RemoteProtocolError   the peer sent something malformed
    └── UpstreamError             a lender's system failed or timed out

Each class has a stable machine ``code`` that the web layer puts in
``{"error": code, "detail": str(exc)}`` (documented in docs/errors.md).
"""

from __future__ import annotations


class LendlineError(Exception):
    """Base of every error lendline raises on purpose."""

    code = "internal_error"
    http_status = 500

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class ConfigError(LendlineError):
    code = "config_error"
    http_status = 400


class RuleError(ConfigError):
    """A declarative file (rules, flows, policy) is invalid at ``line``."""

    code = "invalid_rules"
    http_status = 422

    def __init__(self, detail: str, *, line: int | None = None, code: str | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {detail}" if line is not None else detail, code=code)


class ValidationError(LendlineError):
    """A value from outside is malformed; ``field`` names it."""

    code = "invalid_input"
    http_status = 422

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {detail}" if field else detail, code=code)


class NotFound(LendlineError):
    code = "not_found"
    http_status = 404


class Conflict(LendlineError):
    code = "conflict"
    http_status = 409


class Forbidden(LendlineError):
    code = "forbidden"
    http_status = 403


class Unauthorized(LendlineError):
    code = "unauthorized"
    http_status = 401


class PolicyViolation(LendlineError):
    """Compliance refuses an action; ``reasons`` are stable reason codes."""

    code = "policy_violation"
    http_status = 403

    def __init__(self, detail: str, *, reasons: list[str] | None = None) -> None:
        self.reasons = list(reasons or [])
        super().__init__(detail)


class ProtocolError(LendlineError):
    code = "protocol_error"
    http_status = 400


class LocalProtocolError(ProtocolError):
    code = "local_protocol_error"


class RemoteProtocolError(ProtocolError):
    """The peer sent something malformed; ``status`` is the response to send, if any."""

    code = "remote_protocol_error"

    def __init__(self, detail: str, *, status: int = 400) -> None:
        self.status = status
        super().__init__(detail)


class UpstreamError(LendlineError):
    code = "upstream_error"
    http_status = 502
