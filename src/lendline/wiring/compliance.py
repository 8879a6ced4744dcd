"""Wiring of the compliance feature into the container.

Registers: ``audit``, ``recording_sink`` (= ``vault``), ``vault_lifecycle``, ``otp``, ``sms``
(unless another feature set one), ``contact_policy``, ``rate_review``, ``login_guard``,
``api_keys``, ``compliance_policy`` and, only when configured, ``face_verifier``.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from lendline.compliance.contact import ContactPolicy
from lendline.compliance.keys import derive_key
from lendline.compliance.policyfile import CompliancePolicy, parse_policy
from lendline.compliance.ratecap import parse_rate
from lendline.compliance.retention import RetentionRules
from lendline.errors import ConfigError

if TYPE_CHECKING:
    from lendline.app import Container
    from lendline.settings import Settings

log = structlog.get_logger(__name__)
REPO_POLICY = Path(__file__).resolve().parents[3] / "policy" / "compliance.yaml"


def policy_path(settings: Settings) -> Path | None:
    return settings.policy_file or (REPO_POLICY if REPO_POLICY.is_file() else None)


def load_policy(settings: Settings) -> CompliancePolicy:
    """The policy file named in the settings, else ``policy/compliance.yaml``, else defaults."""
    path = policy_path(settings)
    text = ""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read policy file {path}: {exc}", code="policy_file") from exc
    policy = parse_policy(text)
    # the two older settings still win when set explicitly (env or lendline.toml)
    if "rate_cap_margin_pct" in settings.model_fields_set:
        policy = replace(
            policy, rate_margin_pp=parse_rate(settings.rate_cap_margin_pct, field="rate_cap")
        )
    if "retention_years" in settings.model_fields_set:
        years = settings.retention_years
        policy = replace(
            policy,
            retention=RetentionRules(years, {k: years for k in policy.retention.years_by_kind}),
        )
    return policy


def _blob_store(settings: Settings):  # type: ignore[no-untyped-def]
    if settings.vault_store == "s3":
        from lendline.vault.s3 import S3BlobStore

        return S3BlobStore(
            endpoint=settings.vault_s3_endpoint,
            bucket=settings.vault_s3_bucket,
            access_key=settings.vault_s3_access_key,
            secret_key=settings.vault_s3_secret_key,
            region=settings.vault_s3_region,
        )
    if settings.vault_store != "local":
        raise ConfigError(f"vault_store must be local or s3, not {settings.vault_store!r}")
    from lendline.vault.blobs import LocalBlobStore

    return LocalBlobStore(settings.effective_recordings_dir)


def wire(container: Container) -> None:
    """Build the compliance services and register them on ``container.services``."""
    from lendline.integration.sms import HttpSmsGateway, OutboxSmsGateway
    from lendline.store.compliance.access import ApiKeyService, LoginGuard
    from lendline.store.compliance.audit import AuditLog
    from lendline.store.compliance.contacts import ContactPolicyService
    from lendline.store.compliance.otp import OtpService
    from lendline.store.compliance.rates import RateReviewService
    from lendline.vault.keys import VaultKeys
    from lendline.vault.lifecycle import VaultLifecycle
    from lendline.vault.service import RecordingVault

    settings, db, clock, sv = container.settings, container.db, container.clock, container.services
    policy = load_policy(settings)
    sv["compliance_policy"] = policy
    audit = AuditLog(db, clock, derive_key(container.master_key, "lendline/audit-chain/v1"))
    sv["audit"] = audit
    if "sms" not in sv:
        sv["sms"] = (
            HttpSmsGateway(settings.sms_gateway_url)
            if settings.sms_gateway_url
            else OutboxSmsGateway(settings.data_dir / "sms_outbox")
        )

    def phone_of(customer_id: str) -> str:
        from lendline.store.customers import CustomerRepository

        with db.session() as s:
            return CustomerRepository(s, container.field_cipher).get(customer_id).phone_e164

    sv["otp"] = OtpService(
        db,
        clock,
        sv["sms"],
        derive_key(container.master_key, "lendline/otp/v1"),
        audit,
        policy.otp,
        digest=container.field_cipher.digest,
        phone_of=phone_of,
    )
    sv["contact_policy"] = ContactPolicyService(db, clock, ContactPolicy(policy.contact), audit)
    sv["rate_review"] = RateReviewService(db, clock, container.bus, audit, policy.rate_margin_pp)
    sv["login_guard"] = LoginGuard(db, clock, audit, policy.login)
    sv["api_keys"] = ApiKeyService(db, clock, audit)
    keys = VaultKeys(
        db,
        clock,
        container.master_key,
        settings.vault_keys_dir or settings.data_dir / "keys" / "vault",
    )
    vault = RecordingVault(
        db, _blob_store(settings), keys, clock, policy.retention, node_id=settings.node_id
    )
    sv["vault"] = vault
    sv["recording_sink"] = vault
    sv["vault_lifecycle"] = VaultLifecycle(vault, audit)

    async def audit_policy_in_force() -> None:
        # a configuration change is audited: the policy file's digest at every start
        path = policy_path(settings)
        text = Path(path).read_bytes() if path is not None else b""
        digest = hashlib.sha256(text).hexdigest()[:16]
        last = audit.search(action="config.policy", limit=1)
        changed = not last or digest not in last[0].detail
        audit.record(
            actor="system",
            action="config.policy",
            target=str(path or "built-in defaults"),
            outcome="changed" if changed else "ok",
            detail=f"sha256 {digest}",
        )

    container.on_start(audit_policy_in_force)

    async def recover_recordings() -> None:
        # before this node takes calls: seal what an unclean stop left open, audit each
        if not container.owns_node:
            return  # another live process runs as this node: its recordings are live
        outcomes = await asyncio.to_thread(vault.recover_interrupted, settings.node_id)
        for o in outcomes:
            log.warning(
                "recording_left_open_by_unclean_stop",
                recording=o.recording_id,
                call=o.call_id,
                outcome=o.outcome,
                duration_s=round(o.duration_s, 1),
            )
            await asyncio.to_thread(
                audit.record,
                actor="system",
                action="recording.recover",
                target=o.recording_id,
                outcome=o.outcome.split(":")[0],
                detail=f"call {o.call_id}, node {settings.node_id}: {o.outcome}; "
                f"{o.duration_s:.1f} s kept ({o.chunks} whole chunks)",
            )

    container.on_start(recover_recordings)
    if settings.face_verifier == "stub-for-tests":
        from lendline.compliance.face import StubFaceVerifierForTests

        log.warning("face_verifier_stub", warning="TEST STUB enabled: no real face check")
        sv["face_verifier"] = StubFaceVerifierForTests()
    elif settings.face_verifier:
        raise ConfigError(f"unknown face_verifier {settings.face_verifier!r}")


def seed_demo(container: Container) -> str:
    """Demo recordings (a few seconds of tones, sealed like any call) and one held rate."""
    from lendline.vault.demo import seed_demo_recordings

    return seed_demo_recordings(container)
