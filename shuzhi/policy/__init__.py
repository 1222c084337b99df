"""Policy as data: the rules a government changes, versioned by protocol edition.

An edition is a folder under ``shuzhi/policy/editions/`` (or any folder a user points to) with one YAML
file per section — ``contact.yaml`` (tracing), ``codes.yaml`` (health-code colours), ``area_risk.yaml``,
``index.yaml``. Each capability owns the pydantic model of its section and calls :func:`load_section`;
nothing in code hard-wires a number that a policy file holds. A malformed file fails with a
:class:`PolicyError` naming the file and key.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

DEFAULT_EDITION = "2022-9th"
Section = TypeVar("Section", bound=BaseModel)


class Strict(BaseModel):
    """The base of every section's models: unknown keys are errors (a typo must not pass), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyError(ValueError):
    """A policy file is missing, unreadable or violates its schema."""


def editions() -> list[str]:
    """Names of the editions shipped with shuzhi."""
    root = resources.files("shuzhi.policy").joinpath("editions")
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def edition_dir(edition: str | Path) -> Path:
    """The folder of a shipped edition by name, or a user's folder by path."""
    path = Path(edition)
    if path.is_dir():
        return path
    shipped = Path(str(resources.files("shuzhi.policy").joinpath("editions", str(edition))))
    if not shipped.is_dir():
        raise PolicyError(f"unknown policy edition {edition!r}; shipped editions: {', '.join(editions())}")
    return shipped


def load_section(edition: str | Path, section: str, model: type[Section]) -> Section:
    """Read ``<edition>/<section>.yaml`` and validate it against ``model``."""
    path = edition_dir(edition) / f"{section}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy section {section!r} is missing") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{path}: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        problems.append(f"key '{key}': {err['msg']}")
    return "; ".join(problems)
