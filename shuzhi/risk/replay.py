"""The real 2020 epidemic replayed under the February 2020 rule: every city's risk level on every day.

Input: the packaged ``shuzhi/data/cases/china_daily_by_city_2019-12-01_2020-12-08.csv.gz`` (canghailan/
Wuhan-2019-nCoV, MIT): cumulative confirmed cases per city and day. Rows whose ``cityCode`` is a GB/T 2260
division are rated (prefecture cities; districts where a province reports them; Hong Kong, Macao and Taiwan);
placeholders (imported from abroad ``…y0``, unpublished source ``…xx``, from other provinces ``…xy``, prisons)
and codes outside the April 2019 list are **skipped**, and listed with their counts in the JSON.

Cumulative counts are made monotone (running maximum: downward corrections do not un-count cases) and
carried forward over days without a report. New cases in the window are the rise of that count over the
window; the last case day is the last day it rose. Counts carry no setting, so clusters cannot be seen: a
city above the medium cap is taken to have a cluster when its new cases in the window reach the edition's
``replay.cluster_proxy_min_new_14d``; ``level_if_no_cluster`` and ``level_if_cluster`` (a cluster whenever
two new cases could form one) bound what the real rule could have said.

Outputs, next to each other in ``out_dir``: ``replay_2020_city_risk.parquet`` (:data:`REPLAY_SCHEMA`) and
``replay_2020_city_risk.json`` — ``{"days": [first, last], "levels": ["low", "medium", "high"], "names":
{code: name}, "cities": {code: [level index per day]}, "skipped": [...], "rule": ..., "assumption": ...}``.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shuzhi.engine import Engine, connect
from shuzhi.regions import divisions
from shuzhi.risk import evidence
from shuzhi.risk.area import county_level, rate_county, text
from shuzhi.risk.policy import LEVELS, AreaRiskPolicy, PolicyArg, area_risk_policy

CASES_FILE = "china_daily_by_city_2019-12-01_2020-12-08.csv.gz"
STEM = "replay_2020_city_risk"
REPLAY_SCHEMA = pa.schema(
    [
        ("city_code", pa.string()),
        ("name", pa.string()),
        ("day", pa.date32()),
        ("level", pa.string()),  # under the cluster proxy
        ("reason", pa.string()),
        ("cumulative", pa.int64()),
        ("new_14d", pa.int64()),
        ("days_since_last", pa.int64()),  # null: no case yet
        ("level_if_no_cluster", pa.string()),
        ("level_if_cluster", pa.string()),
    ]
)


def replay(
    policy: AreaRiskPolicy | PolicyArg = "2020-5th", out_dir: Path | str = ".", engine: Engine | None = None
) -> Path:
    """Rate every city of the real 2020 data on every day; write Parquet and the map's JSON to ``out_dir``.

    ``policy`` needs a ``county`` rule and a ``replay`` assumption (the ``2020-5th`` edition has both).
    Returns the Parquet path (:data:`REPLAY_SCHEMA`, sorted by city and day); the JSON has the same stem.
    """
    p = area_risk_policy(policy)
    if p.county is None or p.replay is None:
        raise ValueError(
            "the replay needs an edition with area_risk 'county' and 'replay' keys (e.g. 2020-5th)"
        )
    engine = engine or connect()
    counts = load_counts()
    rated = rate_cities(engine, p, counts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{STEM}.parquet"
    pq.write_table(rated, path)
    (out / f"{STEM}.json").write_text(
        json.dumps(map_json(rated, counts, p), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    return path


def load_counts() -> pa.Table:
    """The packaged daily counts, city rows only: ``city_code, name, day, confirmed``."""
    source = resources.files("shuzhi.data").joinpath("cases", CASES_FILE)
    with resources.as_file(source) as path:
        types = {
            "cityCode": pa.string(),
            "provinceCode": pa.string(),
            "date": pa.date32(),
            "confirmed": pa.int64(),
        }
        raw = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    raw = raw.filter(pc.is_valid(raw["cityCode"]))
    return pa.table(
        {"city_code": raw["cityCode"], "name": raw["city"], "day": raw["date"], "confirmed": raw["confirmed"]}
    )


def is_area(codes: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a code is a GB/T 2260 division (a place on the map), False for placeholders."""
    return pc.is_in(codes, value_set=pa.array(sorted(divisions())))


def rate_cities(engine: Engine, policy: AreaRiskPolicy, counts: pa.Table) -> pa.Table:
    """Every area of ``counts`` on every day of its span, rated by the county rule with the cluster proxy."""
    areas = counts.filter(is_area(counts["city_code"]))
    codes = sorted(set(areas["city_code"].to_pylist()))
    first, last = pc.min(areas["day"]).as_py(), pc.max(areas["day"]).as_py()
    t = _indicators(engine.register("replay_counts", areas), codes, first, last, policy.county.window_days)
    proxy_n = policy.replay.cluster_proxy_min_new_14d
    proxy = t.new_14d >= proxy_n
    reason = ibis.ifelse(
        proxy,
        text(f"≥ {proxy_n} new: taken as a cluster (counts carry no setting)"),
        text(f"< {proxy_n} new: taken as no cluster (counts carry no setting)"),
    )
    rated = rate_county(
        t, policy.county, policy.cluster.window_days, has_cluster=proxy, cluster_reason=reason
    )
    rated = rated.mutate(
        level_if_no_cluster=county_level(t, policy.county, ibis.literal(False)),
        level_if_cluster=county_level(t, policy.county, t.new_14d >= policy.cluster.min_cases),
    )
    names = {code: divisions()[code].name for code in codes}
    out = engine.to_arrow(
        rated.select(*[n for n in REPLAY_SCHEMA.names if n != "name"]).order_by(["city_code", "day"])
    )
    return out.add_column(1, "name", pa.array([names[c] for c in out["city_code"].to_pylist()])).cast(
        REPLAY_SCHEMA
    )


RUNNING = ibis.cumulative_window(group_by="city_code", order_by="day")
BY_DAY = ibis.window(group_by="city_code", order_by="day")


def _monotone(raw: ibis.Table, codes: list[str], first: dt.date, last: dt.date) -> ibis.Table:
    """``city_code, day, cumulative`` on the dense grid: the running maximum, carried over days unreported."""
    g = evidence.attach(
        evidence.grid(codes, first, last, "city_code"),
        raw.select("city_code", "day", "confirmed"),
        ["city_code", "day"],
    )
    return g.select("city_code", "day", cumulative=g.confirmed.max().over(RUNNING).fill_null(0))


def _indicators(raw: ibis.Table, codes: list[str], first: dt.date, last: dt.date, window: int) -> ibis.Table:
    """``city_code, day, cumulative, new_14d, clusters_14d (0), days_since_last`` on the dense grid."""
    g = _monotone(raw, codes, first, last)
    g = g.mutate(
        new_14d=g.cumulative - g.cumulative.lag(window).over(BY_DAY).fill_null(0),
        rose=g.cumulative > g.cumulative.lag(1).over(BY_DAY).fill_null(0),
    )
    g = g.mutate(last_case_day=ibis.ifelse(g.rose, g.day, ibis.null("date")).max().over(RUNNING))
    return g.mutate(clusters_14d=ibis.literal(0), days_since_last=g.day.delta(g.last_case_day, unit="day"))


def daily_new_cases(engine: Engine, counts: pa.Table) -> pa.Table:
    """``city_code, day, cases``: every mapped city's rise of its (monotone) cumulative count, day by day."""
    areas = counts.filter(is_area(counts["city_code"]))
    codes = sorted(set(areas["city_code"].to_pylist()))
    first, last = pc.min(areas["day"]).as_py(), pc.max(areas["day"]).as_py()
    g = _monotone(engine.register("replay_counts", areas), codes, first, last)
    new = g.cumulative - g.cumulative.lag(1).over(BY_DAY).fill_null(0)
    return engine.to_arrow(
        g.select("city_code", "day", cases=new.cast("int64")).order_by(["city_code", "day"])
    )


def map_json(rated: pa.Table, counts: pa.Table, policy: AreaRiskPolicy) -> dict:
    """The compact map document: level indices per city per day, plus what was skipped and why."""
    days = rated["day"]
    codes = rated["city_code"].to_pylist()
    levels = [LEVELS.index(lv) for lv in rated["level"].to_pylist()]
    cities: dict[str, list[int]] = {}
    for code, level in zip(codes, levels, strict=True):
        cities.setdefault(code, []).append(level)
    names = dict(zip(codes, rated["name"].to_pylist(), strict=True))
    return {
        "days": [pc.min(days).as_py().isoformat(), pc.max(days).as_py().isoformat()],
        "levels": list(LEVELS),
        "rule": policy.description,
        "assumption": f"> {policy.county.max_cumulative_medium} cumulative and ≥ "
        f"{policy.replay.cluster_proxy_min_new_14d} new cases in {policy.county.window_days} days stands for "
        "'a cluster within 14 days'",
        "names": names,
        "cities": cities,
        "skipped": skipped(counts),
    }


def skipped(counts: pa.Table) -> list[dict]:
    """Codes that are not places on the map, with their name and last cumulative count."""
    rest = counts.filter(pc.invert(is_area(counts["city_code"]))).sort_by(
        [("city_code", "ascending"), ("day", "ascending")]
    )
    last: dict[str, dict] = {}
    for row in rest.to_pylist():
        last[row["city_code"]] = {
            "code": row["city_code"],
            "name": row["name"],
            "confirmed": row["confirmed"],
        }
    return list(last.values())
