"""What a simulated exposure-notification app logs: records between its users only, every close contact
between two users, brief encounters beside them; no app, no feed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sim_params import params_file

from shuzhi.sim.world import SimParams, World

PERSONS, DAYS, START = 3_000, 6, dt.date(2020, 1, 20)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[World, list]:
    changes = {"outbreak.seeds.per_100k": 1500, "proximity.app_share": 0.5}
    params = params_file(tmp_path_factory.mktemp("params"), **changes)
    world = World(SimParams(persons=PERSONS, days=DAYS, start=START, seed=3, params_file=params))
    return world, list(world.days())


def _records(batches) -> pa.Table:
    return pa.concat_tables([b.tables["proximity"] for b in batches])


def test_records_are_between_two_users_on_their_day(world):
    w, batches = world
    users = set(pc.filter(w.population.persons.ids, pa.array(w.app)).to_pylist())
    for batch in batches:
        t = batch.tables["proximity"]
        a, b = t["id_number_a"].to_pylist(), t["id_number_b"].to_pylist()
        assert t.num_rows and set(a) | set(b) <= users
        assert all(x != y for x, y in zip(a, b, strict=True))
        assert {d.date() for d in t["start_at"].to_pylist()} == {batch.day}
        assert pc.min(t["duration_seconds"]).as_py() >= 1  # the feed takes no empty encounter


def test_every_close_contact_between_two_users_is_logged_and_brief_encounters_too(world):
    w, batches = world
    users = set(pc.filter(w.population.persons.ids, pa.array(w.app)).to_pylist())
    records = _records(batches)
    logged = set(zip(records["id_number_a"].to_pylist(), records["id_number_b"].to_pylist(), strict=True))
    truth = w.truth["close_contacts"]
    pairs = zip(truth["case_id_number"].to_pylist(), truth["contact_id_number"].to_pylist(), strict=True)
    both = [(case, contact) for case, contact in pairs if case in users and contact in users]
    assert len(both) > 20
    assert all((c, k) in logged or (k, c) in logged for c, k in both)
    minutes = records["duration_seconds"].to_numpy() / 60
    assert np.sum(minutes <= 5) > 0.1 * len(minutes)  # brief encounters in shared spaces


def test_without_an_app_there_is_no_proximity_feed():
    world = World(SimParams(persons=1_000, days=2, start=START))
    assert not world.app.any()
    assert all("proximity" not in batch.tables for batch in world.days())
