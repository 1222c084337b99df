"""Health declarations made in the app land in the lake: local times, one part a day, never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from shuzhi.catalogue import catalogue
from shuzhi.engine import connect
from shuzhi.ingest.app import PART, land_app_declarations, last_landed
from shuzhi.lake import Lake
from shuzhi.settings import DataDir
from shuzhi.store import HealthDeclaration, Store, sqlite_url, upgrade

UTC = dt.UTC


@pytest.fixture
def store(tmp_path) -> Store:
    url = sqlite_url(tmp_path / "store")
    upgrade(url)
    return Store(url)


def _declare(store: Store, person: int, at: dt.datetime, temperature: float = 36.5, symptoms=()) -> None:
    with store.session() as session:
        session.add(
            HealthDeclaration(
                person_key=person,
                declared_at=at,
                region_code="330102",
                temperature=temperature,
                symptoms=list(symptoms),
                contact_history=False,
                visited_regions=["330100"],
            )
        )


def _landed(lake: Lake) -> list[tuple]:
    engine = connect(lake=lake.root)
    rows = engine.to_arrow(engine.table("declarations")).to_pylist()
    return sorted((r["person_key"], r["declared_at"], r["county_code"], r["temperature"]) for r in rows)


def test_app_declarations_land_in_local_time_and_a_rerun_never_duplicates(store, tmp_path):
    lake = Lake(tmp_path / "lake")
    _declare(store, 1, dt.datetime(2020, 2, 3, 23, 30, tzinfo=UTC))  # 07:30 on 4 February in China
    _declare(store, 2, dt.datetime(2020, 2, 3, 1, 0, tzinfo=UTC), temperature=38.2, symptoms=["fever"])
    assert last_landed(lake) is None
    assert land_app_declarations(store, lake) == 2
    assert _landed(lake) == [
        (1, dt.datetime(2020, 2, 4, 7, 30), "330102", 36.5),
        (2, dt.datetime(2020, 2, 3, 9, 0), "330102", pytest.approx(38.2)),
    ]
    assert last_landed(lake) == dt.date(2020, 2, 4)
    assert land_app_declarations(store, lake) == 1  # the last day again, whole: it may have grown
    _declare(store, 1, dt.datetime(2020, 2, 4, 12, 0, tzinfo=UTC))  # the evening check, 20:00
    assert land_app_declarations(store, lake) == 2
    assert [r[:2] for r in _landed(lake)] == [
        (1, dt.datetime(2020, 2, 4, 7, 30)),
        (1, dt.datetime(2020, 2, 4, 20, 0)),
        (2, dt.datetime(2020, 2, 3, 9, 0)),
    ]
    parts = sorted(p.relative_to(lake.root).as_posix() for p in lake.root.glob(f"declarations/*/{PART}"))
    assert parts == [f"declarations/day=2020-02-03/{PART}", f"declarations/day=2020-02-04/{PART}"]


def test_an_empty_store_lands_nothing(store, tmp_path):
    lake = Lake(tmp_path / "lake")
    assert land_app_declarations(store, lake) == 0
    assert not (lake.root / "declarations").exists()


def test_the_catalogue_names_the_app_as_a_source_of_declarations(store, tmp_path):
    _declare(store, 1, dt.datetime(2020, 2, 3, 23, 30, tzinfo=UTC))
    land_app_declarations(store, Lake(DataDir(tmp_path).lake))
    held = {h.name: h for h in catalogue(DataDir(tmp_path)).held}
    assert (held["declarations"].kind, held["declarations"].rows) == ("feed", 1)
    assert held["declarations"].sources == ["residents' declarations in the app"]  # no feed file landed


def test_a_landing_takes_what_was_declared_before_its_instant(store, tmp_path):
    lake = Lake(tmp_path / "lake")
    _declare(store, 1, dt.datetime(2020, 2, 3, 23, 30, tzinfo=UTC))
    _declare(store, 2, dt.datetime(2020, 2, 4, 1, 0, tzinfo=UTC))
    assert land_app_declarations(store, lake, until=dt.datetime(2020, 2, 4, 0, 0, tzinfo=UTC)) == 1
    assert [r[0] for r in _landed(lake)] == [1]
