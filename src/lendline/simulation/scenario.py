"""Scenario files: staffing, call reasons, arrival rate, distributions, profile mix.

A scenario (``scenarios/loan-center.yaml``) describes a day in a lender's call centre::

    seed: 7
    hours: 8
    arrivals_per_hour: 240
    patience_s: {dist: exponential, mean: 150}
    reasons:                          # reason -> the skill that resolves it, handle time
      product: {skill: products, handle_s: {dist: lognormal, mean: 240, cv: 0.6}}
    profiles:                         # who calls, about what
      - {name: big_new, share: 0.12, loan_amount_yuan: [120000, 800000], first_call: 1.0,
         reasons: {application: 1.0}, skill: senior_loans}
    staffing:                         # groups of agents: skills as [low, high] levels
      - {count: 6, skills: {products: [6, 9], general: [4, 7]}}
    model:                            # how proficiency changes handle time and resolution
      handle_factor_at_zero: 1.8      # handle time × this at level 0, × 1.0 at level 10
      resolution: {base: 0.55, per_level: 0.04, max: 0.97}
      repeat_after_s: {dist: exponential, mean: 2700}
    bot: {collection: {handle_s: {dist: exponential, mean: 90}, containment: 0.5,
                        handoff_queue: collections}}
    rules: ../rules/default.yaml      # the profile rules of the skills+profile strategy

Times in seconds; money in yuan as in the seed's example (converted to fen for profiles).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from lendline.errors import ConfigError, ValidationError


class Dist(BaseModel):
    """A positive random duration (seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dist: Literal["exponential", "lognormal", "fixed", "uniform"] = "exponential"
    mean: float = Field(gt=0)
    cv: float = Field(0.5, gt=0, description="coefficient of variation (lognormal)")
    low: float | None = None
    high: float | None = None

    def sample(self, rng: random.Random) -> float:
        if self.dist == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if self.dist == "fixed":
            return self.mean
        if self.dist == "uniform":
            lo = self.low if self.low is not None else 0.0
            hi = self.high if self.high is not None else 2 * self.mean
            return rng.uniform(lo, hi)
        sigma2 = math.log(1 + self.cv**2)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))


class ReasonSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    skill: str = "general"
    handle_s: Dist = Dist(mean=180)


class ProfileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    share: float = Field(gt=0)
    loan_amount_yuan: tuple[float, float] = (1000, 50000)
    overdue_days: tuple[int, int] = (0, 0)
    days_since_last_contact: tuple[float, float] | None = None
    credit_score: tuple[int, int] = (550, 750)
    first_call: float = Field(0.5, ge=0, le=1, description="probability of a first call")
    reasons: dict[str, float]
    skill: str | None = Field(None, description="overrides the reason's skill")


class StaffGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    count: int = Field(ge=1, le=100_000)
    skills: dict[str, tuple[int, int]]
    team: str | None = None


class ResolutionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    base: float = Field(0.6, ge=0, le=1)
    per_level: float = Field(0.03, ge=0, le=1)
    max: float = Field(0.97, ge=0, le=1)

    def p(self, level: int) -> float:
        return min(self.max, self.base + self.per_level * level)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    handle_factor_at_zero: float = Field(1.0, ge=1.0)
    resolution: ResolutionModel = ResolutionModel()
    resolution_by_reason: dict[str, ResolutionModel] = Field(default_factory=dict)
    repeat_after_s: Dist = Dist(mean=2700)
    answer_delay_s: float = Field(0.0, ge=0)

    def handle_factor(self, level: int) -> float:
        return 1.0 + (self.handle_factor_at_zero - 1.0) * (10 - min(max(level, 0), 10)) / 10

    def resolution_p(self, reason: str, level: int) -> float:
        return self.resolution_by_reason.get(reason, self.resolution).p(level)


class BotSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    handle_s: Dist = Dist(mean=90)
    containment: float = Field(0.5, ge=0, le=1, description="share resolved by the bot")
    handoff_queue: str = "general"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "scenario"
    seed: int = 1
    hours: float = Field(8.0, gt=0, le=24 * 3650)
    arrivals_per_hour: float = Field(120.0, gt=0)
    patience_s: Dist | None = Dist(mean=180)
    reasons: dict[str, ReasonSpec] = Field(default_factory=lambda: {"other": ReasonSpec()})
    profiles: list[ProfileSpec] = Field(default_factory=list)
    staffing: list[StaffGroup]
    model: Model = Model()
    bot: dict[str, BotSpec] = Field(default_factory=dict)
    rules: str | None = Field(None, description="rules file for skills+profile (relative)")
    wrap_up_s: float = Field(10.0, ge=0)
    service_level_s: float = 20.0
    base_dir: str = "."

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for p in self.profiles:
            for r in p.reasons:
                if r not in self.reasons:
                    raise ValueError(f"profile {p.name!r} uses unknown reason {r!r}")
        return self

    def rules_path(self) -> Path | None:
        return (Path(self.base_dir) / self.rules) if self.rules else None


def load_scenario(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a scenario is a mapping")
    data.setdefault("base_dir", str(path.parent))
    try:
        return Scenario.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ValidationError(f"{path}: {err['msg']}", field=loc) from None


@dataclass(frozen=True, slots=True)
class Arrival:
    """One caller: when, who, why, and the caller's own service and patience times."""

    at_s: float
    customer_id: str
    reason: str
    service_s: float
    patience_s: float | None
    profile: dict[str, Any]
    skill: str  # the skill that resolves this call
    first_call: bool = True
    repeat_of: str | None = None


ARRIVAL_COLUMNS = (
    "arrival_s",
    "customer_id",
    "reason",
    "service_s",
    "patience_s",
    "loan_amount_yuan",
    "overdue_days",
    "credit_score",
    "first_call",
)


def read_arrivals_csv(path: Path, scenario: Scenario) -> list[Arrival]:
    """Read replayed arrivals; a bad row raises ``ValidationError`` naming its line."""
    out: list[Arrival] = []
    try:
        fh = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ARRIVAL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(f"{path} line 1: missing columns {missing}", field=missing[0])
        for row in reader:
            line = reader.line_num
            try:
                reason = row["reason"].strip() or "other"
                spec = scenario.reasons.get(reason, ReasonSpec())
                overdue = int(row["overdue_days"] or 0)
                patience = row["patience_s"].strip()
                first = row["first_call"].strip().lower() in ("1", "true", "yes", "y")
                amount = float(row["loan_amount_yuan"] or 0)
                a = Arrival(
                    at_s=float(row["arrival_s"]),
                    customer_id=row["customer_id"].strip() or f"csv{line}",
                    reason=reason,
                    service_s=float(row["service_s"]),
                    patience_s=float(patience) if patience else None,
                    profile={
                        "loan_amount_yuan": amount,
                        "loan_amount_fen": round(amount * 100),
                        "overdue_days": overdue,
                        "is_overdue": overdue > 0,
                        "credit_score": int(row["credit_score"] or 600),
                        "first_call": first,
                        "days_since_last_contact": _float_or_none(
                            row.get("days_since_last_contact")
                        ),
                    },
                    skill=spec.skill,
                    first_call=first,
                )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValidationError(f"{path} line {line}: {exc}", field=f"line {line}") from None
            if a.at_s < 0 or a.service_s <= 0 or (a.patience_s is not None and a.patience_s < 0):
                raise ValidationError(
                    f"{path} line {line}: times must be positive", field=f"line {line}"
                )
            out.append(a)
    out.sort(key=lambda a: a.at_s)
    return out


def _float_or_none(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    return float(value)
