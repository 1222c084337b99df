"""The synthetic world's contract: canonical schemas, valid IDs and codes, unique natural keys, time order,
reproducibility, and a ground truth consistent with the recorded data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sim_params import params_file

from shuzhi import idcard, model, regions
from shuzhi.sim.population import id_numbers
from shuzhi.sim.world import (
    EVENTS,
    REGISTRIES,
    ParamsError,
    SimParams,
    World,
    load_params,
)

PERSONS, DAYS, START = 3_000, 14, dt.date(2020, 1, 20)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """A small world with many seeds (so the truth has substance): registries, all days' events, truth."""
    params = params_file(tmp_path_factory.mktemp("params"), **{"outbreak.seeds.per_100k": 1500})
    world = World(SimParams(persons=PERSONS, days=DAYS, start=START, seed=7, params_file=params))
    batches = list(world.days())
    events = {name: pa.concat_tables([b.tables[name] for b in batches]) for name in EVENTS}
    return {
        "world": world,
        "batches": batches,
        "events": events,
        "registries": world.registries,
        "truth": world.truth,
    }


def _all_tables(run: dict) -> dict[str, pa.Table]:
    return {**run["registries"], **run["events"]}


def test_every_table_has_the_canonical_schema(run):
    for name, table in _all_tables(run).items():
        assert table.schema.equals(model.with_raw_ids(model.TABLES[name])), name
    assert set(run["batches"][0].tables) == set(EVENTS)
    assert [b.day for b in run["batches"]] == [START + dt.timedelta(days=d) for d in range(DAYS)]


def test_id_numbers_are_valid_unique_and_agree_with_the_registry(run):
    residents = run["registries"]["residents"].to_pydict()
    ids = residents["id_number"]
    assert len(ids) == PERSONS == len(set(ids))
    provinces = regions.province_prefixes()
    assert all(idcard.validate(i, provinces, START) is None for i in ids)
    for i, county, sex, year in zip(
        ids, residents["county_code"], residents["sex"], residents["birth_year"], strict=True
    ):
        assert i[:6] == county and int(i[6:10]) == year and sex == ("M" if int(i[16]) % 2 else "F")
    known = set(ids)
    for name in ("employments", *EVENTS):
        table = _all_tables(run)[name]
        for raw in (c for c in table.column_names if c.startswith("id_number")):
            assert set(table[raw].to_pylist()) <= known, name


def test_id_numbers_match_idcard_compose():
    rng = np.random.default_rng(0)
    region = rng.choice([330102, 330383, 110105, 420100], 2_000)
    birth = np.datetime64("2020-01-19") - rng.integers(0, 40_000, 2_000).astype("timedelta64[D]")
    sequence = rng.integers(1, 1000, 2_000)
    assert id_numbers(region, birth, sequence).to_pylist() == idcard.compose(region, birth, sequence).tolist()


def test_natural_keys_are_unique(run):
    for name, table in _all_tables(run).items():
        key = [("id_number" if k == "person_key" else k) for k in model.TABLES[name].key]
        assert table.group_by(key).aggregate([]).num_rows == table.num_rows, name


def test_times_are_ordered(run):
    e = run["events"]
    assert pc.all(pc.greater(e["venue_stays"]["time_out"], e["venue_stays"]["time_in"])).as_py()
    assert pc.all(pc.greater(e["trips"]["arr_time"], e["trips"]["dep_time"])).as_py()
    assert pc.all(pc.greater_equal(e["telecom_stays"]["last_seen"], e["telecom_stays"]["first_seen"])).as_py()
    assert pc.all(pc.greater(e["tests"]["reported_at"], e["tests"]["sampled_at"])).as_py()
    observations = e["home_observations"]
    assert pc.all(pc.greater_equal(observations["end_date"], observations["start_date"])).as_py()


def test_a_persons_stays_in_a_day_are_sequential(run):
    stays = run["events"]["venue_stays"].sort_by([("id_number", "ascending"), ("time_in", "ascending")])
    person = stays["id_number"].to_numpy(zero_copy_only=False)
    time_in = stays["time_in"].to_numpy().astype(np.int64)
    time_out = stays["time_out"].to_numpy().astype(np.int64)
    same = person[1:] == person[:-1]
    assert (time_in[1:][same] >= time_out[:-1][same]).all()


def test_codes_exist_and_dates_lie_in_the_period(run):
    tables, known = _all_tables(run), set(regions.divisions())
    for name, table in tables.items():
        for column in table.column_names:
            if column.endswith(("county_code", "_region", "city_code")):
                assert set(table[column].drop_null().to_pylist()) <= known, (name, column)
    for list_column in ("visited_regions",):
        assert set(pc.list_flatten(tables["declarations"][list_column]).to_pylist()) <= known
    venues = set(tables["venues"]["venue_code"].to_pylist())
    assert set(tables["venue_stays"]["venue_code"].to_pylist()) <= venues
    enterprises = set(tables["enterprises"]["enterprise_code"].to_pylist())
    for name in ("employments", "electricity"):
        assert set(tables[name]["enterprise_code"].to_pylist()) <= enterprises
    last = START + dt.timedelta(days=DAYS - 1)
    for name in EVENTS:
        column = tables[name][model.TABLES[name].day_column].cast(pa.date32())
        if len(column):
            assert pc.min(column).as_py() >= START and pc.max(column).as_py() <= last, name
    for name in REGISTRIES:
        column = tables[name][model.TABLES[name].day_column]
        assert pc.max(column).as_py() <= START, name


def test_enumerations_follow_the_model(run):
    e = run["events"]
    assert set(e["trips"]["mode"].to_pylist()) <= set(model.TRIP_MODES)
    assert set(e["diagnoses"]["status"].to_pylist()) <= set(model.DIAGNOSIS_STATUSES)
    assert set(e["tests"]["result"].to_pylist()) <= set(model.TEST_RESULTS)
    assert set(run["registries"]["venues"]["category"].to_pylist()) == set(model.VENUE_CATEGORIES)
    trains = e["trips"].filter(pc.equal(e["trips"]["mode"], "train"))
    assert set(trains["carriage_class"].to_pylist()) <= {"hard_seat", "hard_sleeper", "soft_sleeper"}
    assert e["trips"].filter(pc.equal(e["trips"]["mode"], "bus"))["seat_row"].null_count == len(
        e["trips"].filter(pc.equal(e["trips"]["mode"], "bus"))
    )
    flights = e["trips"].filter(pc.equal(e["trips"]["mode"], "flight"))
    assert pc.all(pc.less_equal(flights["seat_row"], 40)).as_py() in (True, None)
    enterprise = run["registries"]["enterprises"]["enterprise_code"].to_pylist()
    assert all(len(code) == 18 and code[:2] in ("91", "12") for code in enterprise)


def test_results_agree_with_the_truth(run):
    """Positive tests only for infected persons; every diagnosed case is infected."""
    infected = set(run["truth"]["infections"]["id_number"].to_pylist())
    tests = run["events"]["tests"]
    positive = tests.filter(pc.equal(tests["result"], "positive"))["id_number"].to_pylist()
    assert positive and set(positive) <= infected
    diagnoses = run["events"]["diagnoses"]
    cases = diagnoses.filter(pc.is_in(diagnoses["status"], pa.array(["confirmed", "asymptomatic"])))
    assert set(cases["id_number"].to_pylist()) <= infected


def test_the_outbreak_takes_off_and_is_found(run):
    infections = run["truth"]["infections"]
    settings = set(infections["setting"].to_pylist())
    imported = infections.filter(pc.equal(infections["setting"], "imported"))
    assert infections.num_rows > 1.5 * imported.num_rows and {"imported", "household"} <= settings
    assert pc.sum(pc.is_valid(infections["diagnosed_at"])).as_py() > 10
    assert imported["infector_id_number"].null_count == imported.num_rows
    assert run["truth"]["close_contacts"].num_rows > infections.num_rows


def _stays_by(run: dict) -> dict:
    stays = run["events"]["venue_stays"].to_pydict()
    out: dict = {}
    for person, venue, t0, t1 in zip(
        stays["id_number"], stays["venue_code"], stays["time_in"], stays["time_out"], strict=True
    ):
        out.setdefault((person, venue), []).append((t0, t1))
    return out


def _overlap(a: list, b: list, minutes: int) -> bool:
    return any(min(x[1], y[1]) - max(x[0], y[0]) >= dt.timedelta(minutes=minutes) for x in a for y in b)


def _memberships(run: dict) -> tuple[dict, dict, dict]:
    residents = run["registries"]["residents"].to_pydict()
    household = dict(zip(residents["id_number"], residents["household_id"], strict=True))
    staff = run["registries"]["employments"].to_pydict()
    team = {
        p: f"{e}/{t}"
        for p, e, t in zip(staff["id_number"], staff["enterprise_code"], staff["team"], strict=True)
    }
    trips = run["events"]["trips"].to_pydict()
    rides: dict = {}
    for person, trip_no in zip(trips["id_number"], trips["trip_no"], strict=True):
        rides.setdefault(person, set()).add(trip_no)
    return household, team, rides


def test_infections_follow_recorded_contacts(run):
    """Every transmission happened where the data puts infector and infectee together."""
    household, team, rides = _memberships(run)
    stays = _stays_by(run)
    rows = run["truth"]["infections"].filter(pc.is_valid(run["truth"]["infections"]["infector_id_number"]))
    assert rows.num_rows > 0
    for r in rows.to_pylist():
        a, b, place, setting = r["infector_id_number"], r["id_number"], r["place"], r["setting"]
        if setting == "household":
            assert household[a] == household[b] == place
        elif setting in ("workplace", "school"):
            assert team[a] == team[b] == place
        elif setting == "venue_table":
            assert _overlap(stays[(a, place)], stays[(b, place)], 15)
        elif setting == "venue_casual":
            assert (a, place) in stays and (b, place) in stays
        else:
            assert setting in ("vehicle", "vehicle_casual") and place in rides[a] and place in rides[b]


def test_close_contacts_are_consistent_with_the_data(run):
    household, team, rides = _memberships(run)
    stays = _stays_by(run)
    contacts = run["truth"]["close_contacts"]
    assert set(contacts["setting"].to_pylist()) <= {
        "household",
        "workplace",
        "school",
        "venue_table",
        "vehicle",
    }
    for r in contacts.to_pylist():
        a, b, place = r["case_id_number"], r["contact_id_number"], r["place"]
        assert a != b and r["last_contact_at"] > r["first_contact_at"]
        if r["setting"] == "household":
            assert household[a] == household[b] == place
        elif r["setting"] in ("workplace", "school"):
            assert team[a] == team[b] == place
        elif r["setting"] == "venue_table":
            assert _overlap(stays[(a, place)], stays[(b, place)], 15)
        else:
            assert place in rides[a] and place in rides[b]


def test_close_contacts_are_observable_by_protocol_rules(run):
    """A tracer using household, team, table-like overlaps and vehicle rules finds ≥ 95% of true contacts."""
    household, team, _ = _memberships(run)
    stays = _stays_by(run)
    trips = run["events"]["trips"].to_pylist()
    seats: dict = {}
    for t in trips:
        seats.setdefault((t["id_number"], t["trip_no"]), []).append(t)
    found = total = 0
    for r in run["truth"]["close_contacts"].to_pylist():
        a, b, place, setting = r["case_id_number"], r["contact_id_number"], r["place"], r["setting"]
        total += 1
        if setting == "household":
            found += household[a] == household[b]
        elif setting in ("workplace", "school"):
            found += team[a] == team[b]
        elif setting == "venue_table":
            found += any(
                abs(x[0] - y[0]) < dt.timedelta(minutes=15)
                and min(x[1], y[1]) - max(x[0], y[0]) >= dt.timedelta(minutes=15)
                for x in stays[(a, place)]
                for y in stays[(b, place)]
            )
        else:
            found += any(_vehicle_rule(x, y) for x in seats[(a, place)] for y in seats[(b, place)])
    assert total > 0 and found / total >= 0.95


def _vehicle_rule(x: dict, y: dict) -> bool:
    if x["dep_time"].date() != y["dep_time"].date() or min(x["arr_time"], y["arr_time"]) <= max(
        x["dep_time"], y["dep_time"]
    ):
        return False
    mode = x["mode"]
    if mode == "flight":
        return abs(x["seat_row"] - y["seat_row"]) <= 3
    if mode == "train":
        same_car = x["carriage"] == y["carriage"]
        return same_car and (x["carriage_class"] != "soft_sleeper" or x["seat_row"] == y["seat_row"])
    if mode == "ship":
        return x["carriage"] == y["carriage"]
    return mode in ("coach", "bus")


def test_electricity_dips_over_the_spring_festival(run):
    use = {b.day: pc.sum(b.tables["electricity"]["kwh"]).as_py() for b in run["batches"]}
    assert use[dt.date(2020, 1, 28)] < 0.5 * use[dt.date(2020, 1, 21)]
    assert use[dt.date(2020, 1, 25)] < use[dt.date(2020, 1, 21)]


def test_households_and_age_pyramid_are_plausible(run):
    residents = run["registries"]["residents"]
    sizes = residents.group_by("household_id").aggregate([("id_number", "count")])["id_number_count"]
    assert pc.min(sizes).as_py() >= 1 and pc.max(sizes).as_py() <= 5
    age = START.year - residents["birth_year"].to_numpy()
    assert 0.08 < (age < 15).mean() < 0.2 and 0.12 < (age >= 60).mean() < 0.26


def test_the_same_seed_gives_the_same_world_and_another_seed_another():
    def tables(seed: int) -> list[pa.Table]:
        world = World(SimParams(persons=2_000, days=3, seed=seed))
        out = list(world.registries.values())
        for batch in world.days():
            out += list(batch.tables.values())
        return out + list(world.truth.values())

    first, again, other = tables(3), tables(3), tables(4)
    assert all(a.equals(b) for a, b in zip(first, again, strict=True))
    assert not all(a.equals(b) for a, b in zip(first, other, strict=True))


def test_vaccinations_are_empty_in_2020_and_generated_later(run):
    assert run["events"]["vaccinations"].num_rows == 0
    world = World(SimParams(persons=2_000, days=2, start=dt.date(2021, 4, 1)))
    doses = pa.concat_tables([b.tables["vaccinations"] for b in world.days()])
    assert doses.num_rows > 0 and set(doses["dose"].to_pylist()) == {1}


def test_the_truth_needs_all_days():
    world = World(SimParams(persons=1_000, days=2))
    with pytest.raises(RuntimeError):
        _ = world.truth
    list(world.days())
    assert set(world.truth) == {"infections", "close_contacts"}
    with pytest.raises(RuntimeError):
        list(world.days())


def test_load_params_names_the_bad_key(tmp_path):
    assert load_params().outbreak.incubation.mean_days == pytest.approx(5.2)
    bad = params_file(tmp_path, **{"outbreak.transmission.household": 2.0})
    with pytest.raises(ParamsError, match="outbreak.transmission.household"):
        load_params(bad)
    bad = params_file(tmp_path, **{"life.travel.departure_ratee": 0.1})
    with pytest.raises(ParamsError, match="departure_ratee"):
        load_params(bad)
    bad = params_file(tmp_path, **{"outbreak.seeds.city_weights": {"420100": 1.0}})
    with pytest.raises(ParamsError, match="city_weights"):
        load_params(bad)
    bad = params_file(tmp_path, **{"outbreak.seeds.region": "120101"})
    with pytest.raises(ParamsError, match="seeds.region"):
        load_params(bad)
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "missing.yaml")
