"""A federation tried on one machine, end to end: the nation (100000), Wenzhou (330300) and Ningbo (330200)
as three instances under one folder.

Wenzhou holds a simulated Zhejiang (simulate → ingest → analyse) whose outbreak, as in 2020, starts mostly
in Wenzhou; Ningbo holds only its own residents (its registry). After one exchange round — Wenzhou's open
statistics of its own areas to the nation, a handover of Ningbo's people to Ningbo, each signed, chained and
answered with a signed receipt — Ningbo's health codes turn its residents that Wenzhou traced red, and the
nation's view sums what its regions published. ``shuzhi
federation trial`` runs it; ``shuzhi serve --data <folder>/100000 --region 100000`` then shows the national
view on the public page.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.credentials.keys import NATIONAL
from shuzhi.federation import local
from shuzhi.federation.delivery import Delivered, exchange, in_process, remember
from shuzhi.federation.exchange import Member
from shuzhi.lake import Lake
from shuzhi.settings import DataDir
from shuzhi.store import Store, sqlite_url

WENZHOU, NINGBO = "330300", "330200"
START = dt.date(2020, 1, 20)
REGISTRY_DAY = dt.date(2010, 1, 1)  # the day Ningbo's copy of its residents is filed under


@dataclass(frozen=True)
class Round:
    """What one exchange round did, and what the codes and the nation's view show after it."""

    delivered: dict[str, list[Delivered] | Exception]
    red_before: int
    red_after: int
    national: pa.Table


def prepare(
    root: Path, persons: int, days: int, seed: int, at: dt.datetime | None = None, progress=None
) -> dict[str, DataDir]:
    """The three instances: Wenzhou simulated, ingested and analysed; Ningbo with its residents; joined
    with keys that sign from a month before ``at`` (default: now)."""
    from shuzhi.ingest import ingest
    from shuzhi.pipeline import analyse
    from shuzhi.sim import run
    from shuzhi.sim.world import SimParams

    members = {region: DataDir(root / region) for region in (NATIONAL, WENZHOU, NINGBO)}
    wenzhou, ningbo = members[WENZHOU], members[NINGBO]
    run(wenzhou.feeds, SimParams(persons=persons, days=days, start=START, seed=seed), progress=progress)
    ingest(wenzhou.feeds, wenzhou.lake, secrets_dir=wenzhou.secrets, progress=progress)
    analyse(wenzhou, progress=progress)
    _copy_residents(wenzhou, ningbo, county_prefix=NINGBO[:4])
    local.federate(members, at or dt.datetime.now(dt.UTC), pseudonyms_from=WENZHOU)
    return members


def _copy_residents(source: DataDir, target: DataDir, county_prefix: str) -> None:
    residents = Lake(source.lake).read("residents")
    theirs = residents.filter(pc.starts_with(residents["county_code"], county_prefix))
    shutil.rmtree(target.lake / "residents", ignore_errors=True)
    Lake(target.lake).write_part("residents", REGISTRY_DAY, "part-registry.parquet", theirs)


def member(data: DataDir, region: str) -> Member:
    """The member kept in ``data``, on its embedded (SQLite) store."""
    return Member.of(data, Store(sqlite_url(data.root)), region)


def exchange_round(members: dict[str, DataDir], now: dt.datetime) -> Round:
    """Wenzhou's round to Ningbo and the nation (over an in-process transport), and what it changed."""
    from shuzhi.engine import connect
    from shuzhi.federation.national import national_view

    wenzhou = member(members[WENZHOU], WENZHOU)
    inboxes = {f"https://{region}.trial": member(members[region], region) for region in (NATIONAL, NINGBO)}
    for url, inbox in inboxes.items():
        remember(wenzhou.data, inbox.region, url)
    before = _red(members)
    delivered = exchange(wenzhou, now, in_process(inboxes, now))
    national = national_view(connect(lake=members[NATIONAL].lake))
    return Round(delivered, before, _red(members), national)


def _red(members: dict[str, DataDir]) -> int:
    """Ningbo's residents whose code is red on the last day Wenzhou coloured."""
    from shuzhi.codes import codes
    from shuzhi.engine import connect
    from shuzhi.pipeline import DEFAULT_EDITION

    day = Lake(members[WENZHOU].lake).days("codes")[-1]
    coloured = codes(connect(lake=members[NINGBO].lake), DEFAULT_EDITION, day, allow_missing=True)
    return pc.sum(pc.equal(coloured["colour"], "red")).as_py() or 0
