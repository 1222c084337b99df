"""Feed writers: each department's files, re-read by plain pandas, pyarrow or json, give the canonical rows.

A tiny example world (``shuzhi.sim.ExampleWorld``) is written without dirt; every feed is read back with
nothing but its documented dialect (docs/feeds.md) and must equal ``truth/expected`` exactly. Encodings,
headers, time formats, the manifest and determinism are checked on the bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi import model
from shuzhi.sim import ExampleWorld, feeds, run
from shuzhi.sim.feeds import FEEDS
from shuzhi.sim.manifest import Manifest

START = dt.date(2020, 1, 20)


def params(persons: int = 240, days: int = 3, seed: int = 7) -> SimpleNamespace:
    return SimpleNamespace(persons=persons, days=days, start=START, seed=seed)


def simulate(out: Path, rate: float = 0.0, **kw) -> Manifest:
    p = params(**kw)
    return run(out, p, rate, world=ExampleWorld(p))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    simulate(out)
    return out


def expected(out: Path, table: str) -> pd.DataFrame:
    return pq.read_table(out / "truth" / "expected" / f"{table}.parquet").to_pandas()


def files_of(out: Path, feed: str) -> list[Path]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [out / f["path"] for f in manifest["files"] if f["feed"] == feed]


# ---- the documented headers --------------------------------------------------------------------------------

DOCUMENTED = {
    "community.residents": ["户号", "身份证号", "所属区县", "登记日期"],
    "community.observations": ["身份证号", "所属区县", "开始日期", "结束日期", "原因"],
    "enterprise.registry": ["credit_code", "name", "county", "industry", "staff", "as_of"],
    "enterprise.staff": ["credit_code", "id_number", "team", "as_of"],
    "enterprise.electricity": ["credit_code", "date", "kwh"],
    "venue.registry": ["code", "name", "category", "county", "capacity", "lng", "lat", "as_of"],
    "venue.scans": ["venue_code", "id_number", "check_in", "check_out"],
    "health.tests": ["身份证号", "采样时间", "报告时间", "检测方法", "检测结果", "检测机构"],
    "health.diagnoses": ["身份证号", "诊断类型", "发病日期", "诊断时间", "报告地区"],
    "health.vaccinations": ["身份证号", "接种日期", "疫苗名称", "剂次"],
    "health.fever": ["身份证号", "就诊时间", "医院", "所在地区", "体温"],
    "transport.trips": [
        "id_no",
        "mode",
        "trip_no",
        "dep",
        "arr",
        "from_code",
        "to_code",
        "from_stop",
        "to_stop",
        "carriage",
        "class",
        "row",
        "seat",
    ],
    "telecom.itinerary": ["cert_no", "city_adcode", "first_seen_ms", "last_seen_ms"],
    "declaration.declarations": ["zjhm", "sbsj", "xzqh", "tw", "zz", "tjdq"],
    "proximity.encounters": ["id_number_a", "id_number_b", "start", "seconds"],
}


def test_every_documented_feed_has_its_fields_in_order() -> None:
    assert {name: [f.name for f in feed.fields] for name, feed in FEEDS.items()} == DOCUMENTED


def test_every_feed_file_is_written_and_listed(clean: Path) -> None:
    manifest = Manifest.load(clean)
    listed = {f.path for f in manifest.files}
    assert listed == {
        p.relative_to(clean).as_posix()
        for p in clean.rglob("*")
        if p.is_file() and p.parts[len(clean.parts)] not in ("truth",) and p.name != "manifest.json"
    }
    days = [START + dt.timedelta(days=i) for i in range(3)]
    for feed in FEEDS.values():
        wanted = {feed.file(d) for d in days} if feed.daily else {feed.path}
        assert wanted <= listed, feed.name


# ---- re-read with plain tools ------------------------------------------------------------------------------


def read_csv(paths: list[Path], feed: feeds.Feed) -> pd.DataFrame:
    encoding = "utf-8-sig" if feed.dialect.bom else feed.dialect.encoding
    frames = [
        pd.read_csv(p, sep=feed.dialect.delimiter, encoding=encoding, dtype=str, keep_default_na=False)
        for p in paths
    ]
    return pd.concat(frames, ignore_index=True).replace("", None)


def json_rows(paths: list[Path]) -> list[dict]:
    return [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines()]


def read_jsonl(paths: list[Path]) -> pd.DataFrame:
    return pd.DataFrame(json_rows(paths))


def back_to_canonical(feed: feeds.Feed, frame: pd.DataFrame) -> pd.DataFrame:
    """The feed's own values mapped back to canonical columns, using only the documented conventions."""
    out = {}
    for f in feed.fields:
        values = frame[f.name]
        if f.kind in (feeds.Kind.DATE, feeds.Kind.TIME):
            parsed = pd.to_datetime(values, format=f.pattern)
            if f.kind is feeds.Kind.TIME and "+08:00" in f.pattern:
                parsed = parsed.dt.tz_localize(None)
            values = parsed.dt.date if f.kind is feeds.Kind.DATE else parsed
        elif f.kind is feeds.Kind.ENUM:
            values = values.map({word: code for code, word in (f.values or {}).items()})
        elif f.kind is feeds.Kind.LIST:
            reverse = {word: code for code, word in (f.values or {}).items()}
            values = values.map(lambda items, r=reverse: [r.get(i, i) for i in items])
        elif f.kind is feeds.Kind.EPOCH_MS:
            values = (
                pd.to_datetime(values, unit="ms", utc=True)
                .dt.tz_convert("Asia/Shanghai")
                .dt.tz_localize(None)
            )
        elif f.kind is feeds.Kind.INT_REGION:
            values = values.astype(str)
        out[f.column] = values
    return pd.DataFrame(out)


def canonical_rows(frame: pd.DataFrame, schema: pa.Schema) -> list:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.select([n for n in schema.names if n in table.column_names])
    target = pa.schema([schema.field(n) for n in table.column_names])
    return sorted(repr(r) for r in table.cast(target).to_pylist())


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_feed_reads_back_as_the_canonical_rows(clean: Path, name: str) -> None:
    feed = FEEDS[name]
    paths = files_of(clean, name)
    if feed.dialect.format == "csv":
        frame = read_csv(paths, feed)
    elif feed.dialect.format == "jsonl":
        frame = read_jsonl(paths)
    else:
        frame = pa.concat_tables([pq.read_table(p) for p in paths]).to_pandas()
    want = expected(clean, feed.table)
    assert len(frame) == len(want) > 0
    got = back_to_canonical(feed, frame)
    assert canonical_rows(got, feed.schema) == canonical_rows(want[got.columns], feed.schema)


def test_sex_and_birth_year_are_not_written_but_derived_from_the_id(clean: Path) -> None:
    header = (clean / "community" / "residents.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "户号;身份证号;所属区县;登记日期"
    residents = expected(clean, "residents")
    assert (residents["birth_year"] == residents["id_number"].str[6:10].astype(int)).all()
    odd = residents["id_number"].str[16].astype(int) % 2 == 1
    assert (residents["sex"] == np.where(odd, "M", "F")).all()


# ---- encodings and formats on the bytes --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["health.tests", "health.diagnoses", "health.vaccinations", "health.fever"])
def test_health_files_are_gbk(clean: Path, name: str) -> None:
    for path in files_of(clean, name):
        data = path.read_bytes()
        text = data.decode("gbk")
        assert text.startswith(",".join(DOCUMENTED[name]) + "\n")
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")


def test_community_files_are_utf8_with_bom_and_semicolons(clean: Path) -> None:
    for name in ("residents", "observations"):
        data = (clean / "community" / f"{name}.csv").read_bytes()
        assert data.startswith("\ufeff".encode())
        lines = data.decode("utf-8-sig").splitlines()
        assert all(";" in line and "," not in line for line in lines)


def test_scan_times_are_minutes_with_slashes(clean: Path) -> None:
    text = files_of(clean, "venue.scans")[0].read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    stamp = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$")
    assert rows and all(stamp.match(r[2]) and stamp.match(r[3]) for r in rows)


def test_trips_have_uppercase_modes_beijing_offsets_and_integer_rows(clean: Path) -> None:
    rows = json_rows(files_of(clean, "transport.trips"))
    assert {r["mode"] for r in rows} <= {m.upper() for m in model.TRIP_MODES}
    assert all(r["dep"].endswith("+08:00") and r["arr"].endswith("+08:00") for r in rows)
    assert all(r["row"] is None or isinstance(r["row"], int) for r in rows)
    assert any(r["row"] is None for r in rows) and any(r["carriage"] is None for r in rows)


def test_declarations_use_gbt_38962_names_and_chinese_symptoms(clean: Path) -> None:
    rows = json_rows(files_of(clean, "declaration.declarations"))
    assert all(set(r) == {"zjhm", "sbsj", "xzqh", "tw", "zz", "tjdq"} for r in rows)
    assert {s for r in rows for s in r["zz"]} <= set(feeds.SYMPTOMS.values())
    assert any(r["zz"] == [] for r in rows)
    line = files_of(clean, "declaration.declarations")[0].read_text(encoding="utf-8").splitlines()[0]
    assert "\\u" not in line  # Chinese written as such


def test_telecom_is_parquet_with_utc_epoch_milliseconds_and_int32_cities(clean: Path) -> None:
    path = files_of(clean, "telecom.itinerary")[0]
    table = pq.read_table(path)
    assert table.schema.field("city_adcode").type == pa.int32()
    assert table.schema.field("first_seen_ms").type == pa.int64()
    assert table.schema.field("cert_no").type == pa.string()
    first = dt.datetime.fromtimestamp(table["first_seen_ms"][0].as_py() / 1000, dt.UTC)
    assert first.astimezone(dt.timezone(dt.timedelta(hours=8))).date() == START  # a Beijing day


def test_csv_text_with_delimiters_and_quotes_survives(clean: Path) -> None:
    frame = read_csv([clean / "enterprise" / "registry.csv"], FEEDS["enterprise.registry"])
    assert '杭州"东方", 有限公司' in set(frame["name"])


# ---- the manifest and determinism --------------------------------------------------------------------------


def test_manifest_counts_lines_and_hashes_bytes(clean: Path) -> None:
    manifest = json.loads((clean / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest)[:7] == ["generator", "version", "seed", "persons", "start", "days", "dirt_rate"]
    assert manifest["generator"] == "shuzhi sim" and manifest["dirt_rate"] == 0.0
    for entry in manifest["files"]:
        data = (clean / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        if entry["path"].endswith(".parquet"):
            assert pq.read_metadata(clean / entry["path"]).num_rows == entry["rows"]
        else:
            header = 1 if entry["path"].endswith(".csv") else 0
            assert data.count(b"\n") - header == entry["rows"]


def test_without_dirt_every_row_lands_and_nothing_is_injected(clean: Path) -> None:
    manifest = Manifest.load(clean)
    assert manifest.faults == {} and manifest.tolerated == {} and manifest.dropped == {}
    written: dict[str, int] = {}
    for f in manifest.files:
        written[FEEDS[f.feed].table] = written.get(FEEDS[f.feed].table, 0) + f.rows
    assert manifest.expected == written
    for table, rows in manifest.expected.items():
        assert pq.read_metadata(clean / "truth" / "expected" / f"{table}.parquet").num_rows == rows


def test_truth_tables_are_written(clean: Path) -> None:
    for name in ("infections", "close_contacts"):
        assert pq.read_table(clean / "truth" / f"{name}.parquet").num_rows > 0


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def digests(out: Path, seed: int) -> dict[str, str]:
        simulate(out, 0.1, persons=120, days=2, seed=seed)
        return {f.path: f.sha256 for f in Manifest.load(out).files}

    first, again, other = digests(tmp_path / "a", 3), digests(tmp_path / "b", 3), digests(tmp_path / "c", 4)
    assert first == again
    assert first != other
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()


def test_progress_reports_each_step(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    p = params(persons=100, days=2)
    run(tmp_path, p, 0.0, progress=lambda *call: calls.append(call), world=ExampleWorld(p))
    assert ("Writing daily feeds", 2, 2) in calls
    assert ("Writing registries", 4, 4) in calls and ("Writing truth", 1, 1) in calls


def test_rerun_replaces_an_earlier_simulation_and_refuses_foreign_feeds(tmp_path: Path) -> None:
    simulate(tmp_path / "out", persons=100, days=3)
    simulate(tmp_path / "out", persons=100, days=1)
    assert not (tmp_path / "out" / "venue" / "scans_20200122.csv").exists()
    foreign = tmp_path / "foreign"
    (foreign / "health").mkdir(parents=True)
    (foreign / "health" / "tests_20200101.csv").write_text("x\n")
    with pytest.raises(FileExistsError):
        simulate(foreign, persons=100, days=1)


# ---- the vectorised pieces, against the obvious scalar code ------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31))


@given(
    st.lists(st.one_of(st.none(), moments), max_size=40),
    st.sampled_from([feeds.DAY, feeds.HEALTH_TIME, feeds.SCAN_TIME, feeds.ISO_TIME]),
)
def test_format_times_is_strftime(values: list, pattern: str) -> None:
    values = [None if v is None else v.replace(microsecond=0) for v in values]
    got = feeds.format_times(pa.array(values, pa.timestamp("s")), pattern).to_pylist()
    assert got == [None if v is None else v.strftime(pattern) for v in values]


texts = st.text(st.characters(codec="gbk", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=60)
@given(st.lists(texts, min_size=1, max_size=20))
def test_csv_lines_parse_back_to_the_text(values: list[str]) -> None:
    feed = FEEDS["health.tests"]
    n = len(values)
    table = pa.table(
        {
            "id_number": ["330102199001011234"] * n,
            "sampled_at": pa.array(
                [dt.datetime(2020, 1, 20, 8, 0, i % 60) for i in range(n)], pa.timestamp("s")
            ),
            "reported_at": pa.array([dt.datetime(2020, 1, 20, 9)] * n, pa.timestamp("s")),
            "method": ["pcr"] * n,
            "result": ["negative"] * n,
            "lab": values,
        }
    )
    clean, _ = feeds.normalise(feed, table)
    lines = feeds.lines(feed, feeds.render(feed, clean)).to_pylist()
    parsed = [next(csv.reader([line]))[5] for line in lines]
    assert parsed == [v or "" for v in clean["lab"].to_pylist()]
    assert all(re.sub(r"[\x00-\x1f\x7f]", " ", v) == v for v in parsed)


@settings(max_examples=60)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_json_lines_parse_back_to_the_text(values: list[str]) -> None:
    feed = FEEDS["transport.trips"]
    n = len(values)
    table = pa.table(
        {
            "id_number": ["330102199001011234"] * n,
            "mode": ["train"] * n,
            "trip_no": values,
            "dep_time": pa.array(
                [dt.datetime(2020, 1, 20, 8, 0, i % 60) for i in range(n)], pa.timestamp("s")
            ),
            "arr_time": pa.array([dt.datetime(2020, 1, 20, 9)] * n, pa.timestamp("s")),
            "origin_region": ["330102"] * n,
            "destination_region": ["330106"] * n,
            "origin_stop": ["杭州东"] * n,
            "destination_stop": ['"x"\\'] * n,
            "carriage": [None] * n,
            "carriage_class": [None] * n,
            "seat_row": [None] * n,
            "seat": ["1A"] * n,
        }
    )
    clean, _ = feeds.normalise(feed, table)
    rows = [json.loads(line) for line in feeds.lines(feed, feeds.render(feed, clean)).to_pylist()]
    assert [r["trip_no"] for r in rows] == clean["trip_no"].to_pylist()
    assert all(r["to_stop"] == '"x"\\' for r in rows)


def test_a_key_repeated_in_the_simulator_output_is_written_once() -> None:
    feed = FEEDS["venue.scans"]
    stamp = pa.array([dt.datetime(2020, 1, 20, 8, 0, s) for s in (5, 40, 10)], pa.timestamp("s"))
    table = pa.table(
        {
            "id_number": ["330102199001011234"] * 3,
            "venue_code": ["V1", "V1", "V2"],
            "time_in": stamp,
            "time_out": stamp,
        }
    )
    clean, dropped = feeds.normalise(feed, table)
    assert clean.num_rows == 2 and dropped == {"duplicate": 1}  # same minute at V1


@pytest.mark.slow
def test_writing_is_fast(tmp_path: Path) -> None:
    """Feed rows written per CPU second (the world's own time excluded), with dirt; the target is ≥ 1M/s."""
    p = params(persons=300_000, days=2)
    world = ExampleWorld(p)
    batches = list(world.days())
    replay = SimpleNamespace(registries=world.registries, truth=world.truth, days=lambda: iter(batches))
    started = time.process_time()
    manifest = run(tmp_path, p, 0.02, world=replay)
    rate = sum(f.rows for f in manifest.files) / (time.process_time() - started)
    assert rate > 500_000, f"{rate:,.0f} rows/s"  # margin below the target for shared CI machines
