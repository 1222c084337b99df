"""Federations of three instances on disk: the national authority (100000), Ningbo (330200) and a city
holding a small simulated province, traced and analysed — Wenzhou (330300), as in ``shuzhi federation
trial`` — or, for the checks that need keys and no data, Hangzhou (330100). Each has its
own region key; the national list trusts all three; the members share the pseudonym key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from risk.conftest import engine  # noqa: F401 — an engine per backend, for the spec tests

from shuzhi.credentials.keys import NATIONAL
from shuzhi.federation import local, trial
from shuzhi.federation.exchange import Member
from shuzhi.settings import DataDir

T0 = dt.datetime(2020, 2, 3, 9, 0, tzinfo=dt.UTC)
HANGZHOU, NINGBO = "330100", "330200"
WENZHOU = trial.WENZHOU  # the member holding the simulated province


@dataclass
class Federation:
    members: dict[str, DataDir]

    def member(self, region: str) -> Member:
        return trial.member(self.members[region], region)


def federate(prepared: dict[str, DataDir], at: dt.datetime = T0) -> Federation:
    """Keys for every region, the signed national list, every member joined with Hangzhou's pseudonym key."""
    local.federate(prepared, at, pseudonyms_from=HANGZHOU)
    return Federation(prepared)


def keys_only_at(root: Path, at: dt.datetime) -> Federation:
    """Three members with keys (made 30 days before ``at``) and no data: enough for the envelope's checks."""
    return federate({r: DataDir(root / r) for r in (NATIONAL, HANGZHOU, NINGBO)}, at)


@pytest.fixture(scope="module")
def keys_only(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return keys_only_at(Path(tmp_path_factory.mktemp("federation")), T0)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    """Wenzhou traces and analyses a simulated province; Ningbo's lake holds Ningbo's residents only."""
    root = Path(tmp_path_factory.mktemp("province"))
    return Federation(trial.prepare(root, persons=20_000, days=14, seed=3, at=T0))
