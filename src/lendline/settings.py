"""The one place that reads the environment: ``lendline.toml`` and ``LENDLINE_*`` variables.

Precedence (highest first): explicit keyword arguments, ``LENDLINE_*`` environment
variables, the TOML file named by ``LENDLINE_CONFIG`` (default ``./lendline.toml``),
then the defaults below — every one of which works on a laptop.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _toml_path() -> Path:
    return Path(os.environ.get("LENDLINE_CONFIG", "lendline.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LENDLINE_", extra="forbid")

    # --- general ---
    env: str = Field("development", description="development | production")
    data_dir: Path = Field(Path("var"), description="where the embedded default keeps its files")
    timezone: str = Field("Asia/Shanghai", description="the centre's local time zone")
    language: str = Field("zh-CN", description="default language of prompts and pages")
    log_level: str = "INFO"
    log_json: bool = False

    # --- store and bus ---
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite under data_dir")
    redis_url: str = Field("", description="redis://…; empty = in-process bus and state")
    node_id: str = Field("node-1", description="this node's name when several share Redis")

    # --- web ---
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    session_secret: str = Field("", description="signing key for web sessions; empty = generated")

    # --- telephony ---
    sip_enabled: bool = True
    sip_host: str = "127.0.0.1"
    sip_port: int = 5080
    sip_advertised_host: str = Field("", description="address put in Contact/SDP; empty = sip_host")
    sip_domain: str = "lendline.local"
    rtp_port_min: int = 20000
    rtp_port_max: int = 29998
    sip_digest_algorithms: str = Field(
        "MD5",
        description="digest challenges the registrar sends, in order of preference "
        "(MD5, SHA-256; RFC 8760). baresip 1.0 fails on any SHA-256 challenge and SIPp 3.6 "
        "answers only the first: set SHA-256,MD5 for a fleet of RFC 8760 phones",
    )

    # --- routing ---
    rules_file: Path | None = Field(None, description="routing rules YAML; none = built-in")
    reservation_timeout_s: float = 15.0
    routing_strategy: str = Field(
        "sticky", description="agent selection: longest_idle | most_proficient | sticky | random"
    )
    routing_tick_s: float = Field(0.25, description="how often routing timers are checked")

    # --- dialogue ---
    nlu_model: str = Field(
        "encoder", description="encoder | baseline | path to a trained model (docs/nlu.md)"
    )
    nlu_warm_at_start: bool = Field(
        True, description="load (or train and cache) the NLU model in the background at start"
    )
    nlu_confidence_threshold: float = Field(
        0.5, description="calibrated intent confidence below which the bot asks again"
    )
    tts_engine: str = "espeak-ng"
    asr_engine: str = Field(
        "", description="empty = DTMF only; pocketsphinx | vosk | sherpa-onnx | funasr"
    )
    asr_model_path: Path | None = None
    funasr_url: str = ""
    flows_dir: Path | None = Field(None, description="extra/override flow YAML files")
    upload_link_base: str = Field(
        "https://lendline.local/upload", description="base URL of the SMS document-upload link"
    )

    # --- compliance ---
    master_key: str = Field("", description="base64 32-byte master key; empty = key file")
    master_key_file: Path | None = Field(None, description="default data_dir/keys/master.key")
    recordings_dir: Path | None = Field(None, description="default data_dir/recordings")
    retention_years: int = 5
    rate_cap_margin_pct: str = "2"
    policy_file: Path | None = Field(None, description="default: policy/compliance.yaml")
    vault_keys_dir: Path | None = Field(None, description="default data_dir/keys/vault")
    vault_store: str = Field("local", description="local | s3 (S3-compatible object storage)")
    vault_s3_endpoint: str = Field("", description="e.g. http://127.0.0.1:9000")
    vault_s3_bucket: str = "lendline-recordings"
    vault_s3_access_key: str = ""
    vault_s3_secret_key: str = ""
    vault_s3_region: str = "us-east-1"
    face_verifier: str = Field("", description="empty = no face step; stub-for-tests in tests")

    # --- integration ---
    crm_url: str = Field("", description="empty = built-in tables")
    los_url: str = ""
    risk_url: str = ""
    connector_timeout_s: float = 0.8
    sms_gateway_url: str = Field("", description="empty = outbox folder under data_dir")

    # --- demo ---
    demo_seed: int = 20261127
    demo_customers: int = 1200
    demo_password: str = Field("", description="password of the demo users; empty = generated")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # --- derived values ---
    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lendline.db').as_posix()}"

    @property
    def effective_recordings_dir(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def effective_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "keys" / "master.key"

    @property
    def advertised_host(self) -> str:
        return self.sip_advertised_host or self.sip_host


def load_settings(**overrides: Any) -> Settings:
    """Build the settings object; keyword arguments win over everything else."""
    return Settings(**overrides)
