"""Dirt: every injected fault is in the files exactly as the manifest counts it, and nothing else is.

A reference reader written from docs/feeds.md alone (``csv``, ``json``, ``datetime.strptime``,
``idcard.validate``, ``regions.divisions``) re-reads a simulated feed directory, gives every row the first
documented check it fails and compares with ``manifest.json``: quarantined rows per feed and class equal the
injected faults, landed rows equal ``truth/expected`` exactly, mixed-encoding and late rows equal the
tolerated counts. The platform's own ingestion is run on the same directory too.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi import idcard, model, regions
from shuzhi.sim import ExampleWorld, dirt, feeds, run
from shuzhi.sim.feeds import FEEDS, Feed, Kind
from shuzhi.sim.manifest import Manifest

START = dt.date(2020, 1, 20)
TODAY = dt.date(2030, 1, 1)
ORDER = (
    "community.residents",
    "community.observations",
    "enterprise.registry",
    "enterprise.staff",
    "venue.registry",
)  # registries first: scans need the venue registry


def simulate(out: Path, rate: float, persons: int = 300, days: int = 3, seed: int = 11) -> Manifest:
    p = SimpleNamespace(persons=persons, days=days, start=START, seed=seed)
    return run(out, p, rate, world=ExampleWorld(p))


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    simulate(out, 0.08)
    return out


# ---- the reference reader ----------------------------------------------------------------------------------


CUT: dict = {}  # the values of a last line cut short


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class Reading:
    quarantined: dict[str, Counter] = field(default_factory=dict)
    landed: dict[str, list[dict]] = field(default_factory=dict)
    tolerated: dict[str, Counter] = field(default_factory=dict)
    raw: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # feed → (reason or "landed", text)


def read_feeds(directory: Path) -> Reading:
    files: dict[str, list[str]] = {}
    for entry in json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["files"]:
        files.setdefault(entry["feed"], []).append(entry["path"])
    reading, venues = Reading(), set()
    for name in ORDER + tuple(sorted(set(FEEDS) - set(ORDER))):
        feed, seen = FEEDS[name], set()
        for path in sorted(files.get(name, [])):
            day = file_day(path) if feed.daily else None
            for values, text, mixed in records(feed, directory / path):
                reason = "truncated" if values is CUT else classify(feed, values, venues, seen, reading, day)
                reading.raw.setdefault(name, []).append((reason, text))
                if reason != "landed":
                    reading.quarantined.setdefault(name, Counter())[reason] += 1
                elif mixed:
                    reading.tolerated.setdefault(name, Counter())["mixed_encoding"] += 1
        if name == "venue.registry":
            venues = {row["venue_code"] for row in reading.landed.get("venues", [])}
    return reading


def file_day(path: str) -> dt.date:
    return dt.datetime.strptime(path.rsplit("_", 1)[1].split(".")[0], "%Y%m%d").date()


def records(feed: Feed, path: Path) -> Iterator[tuple[dict | None, str, bool]]:
    """(values by field name, or None for a row that is no row: the reason is in the text), text, mixed."""
    if not feed.dialect.text:
        for row in pq.read_table(path).to_pylist():
            yield row, json.dumps(row), False
        return
    data = path.read_bytes().removeprefix("\ufeff".encode())
    lines = data.split(b"\n")
    cut = lines.pop()  # empty unless the file ends inside its last line
    for number, raw in enumerate(lines):
        if feed.dialect.csv and number == 0:
            assert decode(raw, feed)[0] == feed.header
            continue
        text, mixed = decode(raw, feed)
        yield parse(feed, text), text, mixed
    if cut:
        yield CUT, cut.decode(feed.dialect.encoding, errors="replace"), False


def decode(raw: bytes, feed: Feed) -> tuple[str, bool]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(feed.dialect.encoding), False
    return text, feed.dialect.encoding != "utf-8" and not text.isascii()


def parse(feed: Feed, text: str) -> dict | None:
    names = [f.name for f in feed.fields]
    if feed.dialect.csv:
        cells = next(csv.reader([text], delimiter=feed.dialect.delimiter))
        return dict(zip(names, [c or None for c in cells], strict=True)) if len(cells) == len(names) else None
    try:
        row = json.loads(text)
    except json.JSONDecodeError:
        return None
    return row if isinstance(row, dict) and list(row) == names else None


def classify(feed: Feed, values: dict | None, venues: set, seen: set, reading: Reading, day) -> str:
    """The first documented check the row fails, or "landed" (and the row is added to the landed rows)."""
    if values is None:
        return "malformed"
    try:
        row = canonical(feed, values, venues)
    except Rejected as rejected:
        return rejected.reason
    key = tuple(row[c] for c in feed.key)
    if key in seen:
        return "duplicate"
    seen.add(key)
    reading.landed.setdefault(feed.table, []).append(row)
    day_value = row[model.TABLES[feed.table].day_column]
    if day is not None and (day_value.date() if isinstance(day_value, dt.datetime) else day_value) < day:
        reading.tolerated.setdefault(feed.name, Counter())["late"] += 1
    return "landed"


def canonical(feed: Feed, values: dict, venues: set) -> dict:
    numbers = {
        f.name: number(values[f.name], feed.schema.field(f.column).type) for f in feed.of_kind(Kind.NUMBER)
    }
    times = {f.name: when(f, values[f.name]) for f in feed.of_kind(Kind.DATE, Kind.TIME, Kind.EPOCH_MS)}
    for f in feed.of_kind(Kind.ID):
        problem = idcard.validate(values[f.name], regions.province_prefixes(), TODAY)
        if problem:
            raise Rejected(problem.reason)
    for f in feed.of_kind(Kind.REGION, Kind.INT_REGION):
        if str(values[f.name]) not in regions.divisions():
            raise Rejected("unknown_region")
    for f in feed.of_kind(Kind.VENUE):
        if values[f.name] not in venues:
            raise Rejected("unknown_venue")
    start, end = (times[name] for name in feed.order) if feed.order else (None, None)
    if None not in (start, end) and end < start:
        raise Rejected("time_order")
    row = {}
    for f in feed.fields:
        value = values[f.name]
        if f.name in numbers or f.name in times:
            value = numbers.get(f.name, times.get(f.name))
        elif f.kind is Kind.ENUM:
            value = {word: code for code, word in (f.values or {}).items()}[value]
        elif f.kind is Kind.LIST:
            value = [{w: c for c, w in (f.values or {}).items()}.get(v, v) for v in value]
        elif f.kind is Kind.INT_REGION:
            value = str(value)
        row[f.column] = value
    if "birth_year" in feed.schema.names:
        row["birth_year"] = int(row["id_number"][6:10])
        row["sex"] = "M" if int(row["id_number"][16]) % 2 else "F"
    return row


def number(text, kind: pa.DataType):
    if text is None or isinstance(text, int | float):
        return text
    try:
        return int(text) if pa.types.is_integer(kind) else float(text)
    except ValueError:
        raise Rejected("malformed") from None


def when(f: feeds.Field, value):
    if value is None:
        return None
    if f.kind is Kind.EPOCH_MS:
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=value, hours=8)
    try:
        moment = dt.datetime.strptime(value, f.pattern)
    except ValueError:
        raise Rejected("bad_date") from None
    return moment.date() if f.kind is Kind.DATE else moment


def rows_of(table: str, rows: list[dict]) -> list[str]:
    schema = model.with_raw_ids(model.TABLES[table])
    return sorted(repr(r) for r in pa.Table.from_pylist(rows, schema=schema).to_pylist())


def assert_consistent(directory: Path) -> Reading:
    """The reference reading of ``directory`` agrees with its manifest and expected rows in every count."""
    manifest = Manifest.load(directory)
    reading = read_feeds(directory)
    assert {f: dict(c) for f, c in reading.quarantined.items()} == manifest.faults
    assert {f: dict(c) for f, c in reading.tolerated.items() if c} == {
        f: {k: n for k, n in c.items() if k in ("mixed_encoding", "late")}
        for f, c in manifest.tolerated.items()
        if {"mixed_encoding", "late"} & set(c)
    }
    for table, count in manifest.expected.items():
        landed = reading.landed.get(table, [])
        assert len(landed) == count, table
        want = pq.read_table(directory / "truth" / "expected" / f"{table}.parquet").to_pylist()
        assert rows_of(table, landed) == rows_of(table, want), table
    return reading


# ---- the contract ------------------------------------------------------------------------------------------


def test_reference_reading_agrees_with_the_manifest(dirty: Path) -> None:
    reading = assert_consistent(dirty)
    manifest = Manifest.load(dirty)
    injected = {c for per_feed in manifest.faults.values() for c in per_feed}
    assert injected == set(dirt.FAULTS)  # every class occurs at this rate
    assert {c for per_feed in manifest.tolerated.values() for c in per_feed} == set(dirt.TOLERATED)
    assert reading.landed


def test_every_quarantined_check_digit_really_is_wrong(dirty: Path) -> None:
    manifest = Manifest.load(dirty)
    for name, per_feed in manifest.faults.items():
        feed = FEEDS[name]
        if feed.id_field is None or not feed.dialect.text:
            continue
        wrong = 0
        for entry in (f for f in manifest.files if f.feed == name):
            for values, _, _ in records(feed, dirty / entry.path):
                ids = [(values or {}).get(f.name) for f in feed.of_kind(Kind.ID)]
                wrong += any(i and idcard.check_char(i[:17]) != i[17] for i in ids)
        assert wrong == per_feed.get("id_check_digit", 0), name


def test_malformed_csv_lines_have_another_field_count_or_a_word_for_a_number(dirty: Path) -> None:
    manifest = Manifest.load(dirty)
    for name, feed in FEEDS.items():
        if not feed.dialect.csv:
            continue
        broken = 0
        for entry in (f for f in manifest.files if f.feed == name):
            for values, _text, _ in records(feed, dirty / entry.path):
                if values is CUT:
                    continue
                if values is None or dirt.NUMBER_AS_TEXT in values.values():
                    broken += 1
        assert broken == manifest.faults.get(name, {}).get("malformed", 0), name


def test_truncated_files_end_inside_their_last_row(dirty: Path) -> None:
    manifest = Manifest.load(dirty)
    cut = Counter(
        f.feed
        for f in manifest.files
        if f.path.endswith((".csv", ".jsonl")) and not (dirty / f.path).read_bytes().endswith(b"\n")
    )
    assert dict(cut) == {n: c["truncated"] for n, c in manifest.faults.items() if "truncated" in c}


def test_duplicates_are_exact_copies_of_landed_lines(dirty: Path) -> None:
    reading = read_feeds(dirty)
    for name, rows in reading.raw.items():
        if not FEEDS[name].dialect.text:
            continue
        landed = {text for reason, text in rows if reason == "landed"}
        copies = [text for reason, text in rows if reason == "duplicate"]
        assert all(text in landed for text in copies), name


def test_unknown_codes_are_really_unknown() -> None:
    assert not set(dirt.unknown_regions("county")) & set(regions.divisions())
    assert all(c.endswith("00") for c in dirt.unknown_regions("city"))
    assert not set(dirt.unknown_regions("city")) & set(regions.divisions())


def test_parquet_carries_only_classes_it_can_represent(dirty: Path) -> None:
    manifest = Manifest.load(dirty)
    assert manifest.fault_classes["telecom.itinerary"] == list(dirt.PARQUET_CLASSES)
    assert set(manifest.faults["telecom.itinerary"]) <= set(dirt.PARQUET_CLASSES)
    assert set(manifest.tolerated.get("telecom.itinerary", {})) <= set(dirt.PARQUET_CLASSES)


def test_referenced_registry_rows_are_never_corrupted(dirty: Path) -> None:
    reading = read_feeds(dirty)
    registered = {row["venue_code"] for row in reading.landed["venues"]}
    assert {row["venue_code"] for row in reading.landed["venue_stays"]} <= registered
    firms = {row["enterprise_code"] for row in reading.landed["enterprises"]}
    assert {
        row["enterprise_code"] for row in reading.landed["electricity"] + reading.landed["employments"]
    } <= firms


def test_ingestion_quarantines_exactly_the_injected_faults(dirty: Path, tmp_path: Path) -> None:
    ingest = pytest.importorskip("shuzhi.ingest").ingest
    report = json.loads(ingest(dirty, tmp_path / "lake", secrets_dir=tmp_path / "secrets").to_json())
    quarantined: dict[str, Counter] = {}
    for entry in report["files"]:
        quarantined.setdefault(entry["feed"], Counter()).update(entry.get("quarantined") or {})
    manifest = Manifest.load(dirty)
    assert {f: dict(c) for f, c in quarantined.items() if c} == manifest.faults
    landed = {
        t: sum(pq.read_metadata(p).num_rows for p in (tmp_path / "lake" / t).glob("day=*/*.parquet"))
        for t in manifest.expected
    }
    assert landed == manifest.expected


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([0.01, 0.05, 0.3]), days=st.integers(1, 3))
def test_counts_hold_for_any_seed_and_rate(tmp_path: Path, seed: int, rate: float, days: int) -> None:
    out = tmp_path / f"s{seed}-{rate}-{days}"
    simulate(out, rate, persons=120, days=days, seed=seed)
    assert_consistent(out)


# ---- arranging a file ------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    st.lists(
        st.sampled_from(
            [
                dirt.CLEAN,
                dirt.CODE["duplicate"],
                dirt.CODE["late"],
                dirt.CODE["out_of_order"],
                dirt.CODE["malformed"],
            ]
        ),
        max_size=30,
    ),
    st.integers(0, 5),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_arrange_keeps_every_row_once_copies_after_sources(
    roles: list[int], carried: int, truncate: bool, seed: int
) -> None:
    roles = np.array(roles, dtype=np.int8)
    rng = np.random.default_rng(seed)
    rows = pa.array([f"row{i}" for i in range(len(roles))], pa.string())
    to_next = (roles == dirt.CODE["duplicate"]) & (rng.random(len(roles)) < 0.5)
    previous = pa.array([f"old{i}" for i in range(carried)], pa.string()) if carried else None
    done = dirt.arrange(rows, roles.copy(), to_next, previous, truncate and len(roles) > 0, None, rng)
    out = done.rows.to_pylist()
    stayed = [f"row{i}" for i, r in enumerate(roles) if r != dirt.CODE["late"]]
    copies = [f"row{i}" for i, r in enumerate(roles) if r == dirt.CODE["duplicate"] and not to_next[i]]
    expected_rows = Counter(stayed + copies + [f"old{i}" for i in range(carried)])
    if done.truncated:
        was_clean = np.isin(
            roles, [dirt.CLEAN, dirt.CODE["out_of_order"]]
        )  # a lone out-of-order row is clean
        victims = [f"row{i}" for i in np.flatnonzero(was_clean & ~done.lands)]
        assert len(victims) == 1 and victims[0].startswith(out[-1]) and 0 < len(out[-1]) < len(victims[0])
        out, expected_rows = out[:-1], expected_rows - Counter(victims)
    assert Counter(out) == expected_rows
    for copy in copies:
        first = out.index(copy)
        assert copy in out[first + 1 :]  # the copy comes after its source
    moved = [f"row{i}" for i, r in enumerate(roles) if r == dirt.CODE["late"] or to_next[i]]
    assert (done.carry.to_pylist() if done.carry is not None else []) == moved
