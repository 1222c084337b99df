"""Policy as data: the rules a government changes, versioned by protocol edition.

An edition is a folder under ``shuzhi/policy/editions/`` (or any folder a user points to) with one YAML
file per section — ``contact.yaml`` (tracing), ``codes.yaml`` (health-code colours), ``area_risk.yaml``,
``index.yaml``. Each capability owns the pydantic model of its section and calls :func:`load_section`;
nothing in code hard-wires a number that a policy file holds. A malformed file fails with a
:class:`PolicyError` naming the file and key.

A folder may hold only the sections it changes: its ``edition.yaml`` names the edition (``edition``) and the
one its other sections are read from (``based_on``: a shipped name, or a folder path relative to it), and a
section read from there carries this edition's name.
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


class Lineage(Strict):
    """``edition.yaml``: an edition's name and the edition its missing sections are read from."""

    edition: str
    based_on: str


LINEAGE = "edition.yaml"


def section_path(edition: str | Path, section: str) -> Path:
    """The file of ``section`` in force for ``edition``: its own, or its base's (see ``edition.yaml``); the
    path it would have in the edition's folder if neither holds it."""
    folder = edition_dir(edition)
    own, seen = folder / f"{section}.yaml", {folder.resolve()}
    while not (folder / f"{section}.yaml").is_file() and (lineage := _lineage(folder)) is not None:
        folder = _base_dir(folder, lineage.based_on)
        if folder.resolve() in seen:
            raise PolicyError(f"{folder / LINEAGE}: key 'based_on': editions based on each other in a loop")
        seen.add(folder.resolve())
    found = folder / f"{section}.yaml"
    return found if found.is_file() else own


def load_section(edition: str | Path, section: str, model: type[Section]) -> Section:
    """Read the ``section`` in force for ``edition`` (see :func:`section_path`) and validate it."""
    path = section_path(edition, section)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy section {section!r} is missing") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    folder = edition_dir(edition)
    inherited = path.parent.resolve() != folder.resolve()
    if inherited and isinstance(data, dict) and "edition" in model.model_fields:
        data = {**data, "edition": _lineage(folder).edition}  # a base's section, in force for this edition
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{path}: {_describe(exc)}") from exc


def _lineage(folder: Path) -> Lineage | None:
    path = folder / LINEAGE
    if not path.is_file():
        return None
    try:
        return Lineage.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise PolicyError(f"{path}: {_describe(exc)}") from exc


def _base_dir(folder: Path, based_on: str) -> Path:
    """A base named by a shipped name, or by a folder path relative to ``folder``."""
    relative = folder / based_on
    return relative.resolve() if relative.is_dir() else edition_dir(based_on)


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        problems.append(f"key '{key}': {err['msg']}")
    return "; ".join(problems)
