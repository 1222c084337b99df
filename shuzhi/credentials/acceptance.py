"""Acceptance policies: which credentials a region accepts, and as what colour, as CertLogic rules in data.

A policy file (``rules/<region>.json``, or any file a region points to) lists the credential types the region
accepts with the colour each counts as (``as-issued`` for a health code keeps its own colour), and rules in
the EU DCC business-rule format: ``Identifier``, ``Version``, ``CertificateType`` (``HealthCode``, ``Test``,
``Vaccination``, ``Recovery`` or ``General`` for all), ``Description``, ``ValidFrom``/``ValidTo`` and a
CertLogic ``Logic`` evaluated on ``{"payload": <credential>, "external": {"validationClock", "iat", "exp",
"issuer", "countryCode", "kind"}}``. Of the versions of a rule valid at the check, the highest applies; a rule
passes when its logic is truthy, and one that fails or cannot be evaluated rejects the credential.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from shuzhi.credentials import certlogic

CERTIFICATE_TYPES = ("HealthCode", "Test", "Vaccination", "Recovery")
GENERAL = "General"
AS_ISSUED = "as-issued"
KIND_TYPES = {"hc": "HealthCode", "t": "Test", "v": "Vaccination", "r": "Recovery"}


class AcceptanceError(ValueError):
    """A policy file that is missing or malformed."""


@dataclass(frozen=True)
class Rule:
    identifier: str
    version: tuple[int, ...]
    certificate_type: str
    description: str
    valid_from: datetime
    valid_to: datetime
    logic: Any

    @classmethod
    def from_json(cls, rule: dict) -> Rule:
        try:
            kind = rule["CertificateType"]
            if kind not in (*CERTIFICATE_TYPES, GENERAL):
                raise AcceptanceError(f"rule {rule['Identifier']}: unknown CertificateType {kind!r}")
            english = [d["desc"] for d in rule["Description"] if d["lang"] == "en"]
            return cls(
                rule["Identifier"],
                tuple(int(p) for p in rule["Version"].split(".")),
                kind,
                (english or [rule["Description"][0]["desc"]])[0],
                datetime.fromisoformat(rule["ValidFrom"]),
                datetime.fromisoformat(rule["ValidTo"]),
                rule["Logic"],
            )
        except AcceptanceError:
            raise
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise AcceptanceError(f"malformed rule {rule.get('Identifier', '?')}: {exc!r}") from None

    @property
    def label(self) -> str:
        return f"{self.identifier} v{'.'.join(str(p) for p in self.version)}"

    def applies(self, certificate_type: str, at: datetime) -> bool:
        return self.certificate_type in (certificate_type, GENERAL) and self.valid_from <= at < self.valid_to

    def passes(self, data: dict) -> tuple[bool, str]:
        """Whether the rule accepts ``data``, and why not."""
        try:
            result = certlogic.evaluate(self.logic, data)
        except certlogic.CertLogicError as exc:
            return False, f"{self.label}: {self.description} (cannot be evaluated: {exc})"
        return certlogic.is_truthy(result), f"{self.label}: {self.description}"


@dataclass(frozen=True)
class Outcome:
    """The verdict of a policy on one credential."""

    accepted: bool
    counts_as: str | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class AcceptancePolicy:
    """One region's acceptance policy for one purpose (e.g. entry)."""

    region: str
    version: str
    purpose: str
    accepts: dict[str, str]
    rules: tuple[Rule, ...]

    @classmethod
    def from_json(cls, document: dict) -> AcceptancePolicy:
        try:
            accepts = dict(document["accepts"])
            unknown = set(accepts) - set(CERTIFICATE_TYPES)
            if unknown:
                raise AcceptanceError(f"accepts unknown credential types {sorted(unknown)}")
            rules = tuple(Rule.from_json(r) for r in document["rules"])
            return cls(document["region"], document["version"], document["purpose"], accepts, rules)
        except (KeyError, TypeError) as exc:
            raise AcceptanceError(f"malformed acceptance policy: missing or wrong {exc!r}") from None

    def evaluate(self, kind: str, payload: dict, external: dict, at: datetime) -> Outcome:
        """Apply the policy to a credential of ``kind`` (``hc``, ``t``, ``v``, ``r``) checked at ``at``."""
        certificate_type = KIND_TYPES[kind]
        if certificate_type not in self.accepts:
            return Outcome(
                False,
                None,
                (f"{self.region} does not accept {certificate_type} credentials for {self.purpose}",),
            )
        data = {"payload": payload, "external": {**external, "countryCode": self.region}}
        results = [rule.passes(data) for rule in self.current_rules(certificate_type, at)]
        failures = tuple(why for ok, why in results if not ok)
        if failures:
            return Outcome(False, None, failures)
        counts_as = self.accepts[certificate_type]
        return Outcome(True, payload["hc"]["col"] if counts_as == AS_ISSUED else counts_as)

    def current_rules(self, certificate_type: str, at: datetime) -> list[Rule]:
        """The highest version, valid at ``at``, of each rule that applies to ``certificate_type``."""
        newest: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.applies(certificate_type, at) and (
                rule.identifier not in newest or rule.version > newest[rule.identifier].version
            ):
                newest[rule.identifier] = rule
        return sorted(newest.values(), key=lambda r: r.identifier)


def shipped_regions() -> list[str]:
    """Regions with a policy shipped in ``shuzhi/credentials/rules/``."""
    root = resources.files("shuzhi.credentials.rules")
    return sorted(p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json"))


def load(region_or_path: str | Path) -> AcceptancePolicy:
    """A policy from a file, or the shipped policy of a region (a city falls back to its province)."""
    path = Path(region_or_path)
    if path.suffix == ".json":
        if not path.is_file():
            raise AcceptanceError(f"{path}: no such acceptance policy file")
        return AcceptancePolicy.from_json(json.loads(path.read_text(encoding="utf-8")))
    region = str(region_or_path)
    for candidate in (region, region[:4] + "00", region[:2] + "0000"):
        if candidate in shipped_regions():
            text = (
                resources.files("shuzhi.credentials.rules").joinpath(f"{candidate}.json").read_text("utf-8")
            )
            return AcceptancePolicy.from_json(json.loads(text))
    raise AcceptanceError(
        f"no acceptance policy shipped for {region}; shipped: {', '.join(shipped_regions())}"
    )
