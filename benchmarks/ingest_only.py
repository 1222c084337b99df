"""Benchmark ingestion alone on realistic venue-scan files (no simulator): rows/s end to end.

Writes a venue registry and ``--days`` daily scan files of ``--rows`` check-ins each (persons drawn from a
pool, Zipf-popular venues, 2% of rows given a fault: malformed, bad date, bad check digit, unknown venue, time
order, duplicate), then times ``shuzhi.ingest.ingest`` on them, with and without a second pass (which must
skip all).

    python benchmarks/ingest_only.py --rows 1000000 --days 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import idcard


def _ids(n: int, rng: np.random.Generator) -> np.ndarray:
    region = rng.choice([330102, 330105, 330106, 330108, 330109, 330110], size=n)
    birth = np.datetime64("1940-01-01") + rng.integers(0, 75 * 365, size=n).astype("timedelta64[D]")
    return idcard.compose(region, birth, rng.integers(0, 1000, size=n))


def write_registry(path: Path, venues: int) -> np.ndarray:
    codes = np.array([f"V3301{i:08d}" for i in range(venues)])
    lines = ["code,name,category,county,capacity,lng,lat,as_of"]
    lines += [
        f"{c},venue {i},restaurant,330106,{50 + i % 500},120.1,30.2,2020-01-01" for i, c in enumerate(codes)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return codes


def write_scans(
    path: Path, day: dt.date, rows: int, ids: np.ndarray, venues: np.ndarray, rng: np.random.Generator
) -> None:
    who = ids[rng.integers(0, len(ids), size=rows)].astype(object)
    where = venues[np.minimum(rng.zipf(1.3, size=rows) - 1, len(venues) - 1)].astype(object)
    start = rng.integers(6 * 60, 22 * 60, size=rows)
    stay = rng.integers(5, 180, size=rows)
    base = np.datetime64(day.isoformat(), "m")
    t_in = (base + start.astype("timedelta64[m]")).astype(str)
    t_out = (base + (start + stay).astype("timedelta64[m]")).astype(str)
    fmt = np.vectorize(lambda s: s.replace("-", "/").replace("T", " "), otypes=[object])
    t_in, t_out = fmt(t_in), fmt(t_out)
    faults = rng.random(rows) < 0.02
    kind = rng.integers(0, 6, size=rows)
    for i in np.flatnonzero(faults):
        k = kind[i]
        if k == 0:
            t_out[i] = t_out[i] + ",extra"
        elif k == 1:
            t_in[i] = t_in[i][:5] + "13" + t_in[i][7:]
        elif k == 2:
            who[i] = who[i][:17] + ("0" if who[i][17] != "0" else "1")
        elif k == 3:
            where[i] = "V999999999999"
        elif k == 4:
            t_in[i], t_out[i] = t_out[i], t_in[i]
    columns = [pa.array(c.tolist(), pa.string()) for c in (where, who, t_in, t_out)]
    lines = pc.binary_join_element_wise(*columns, ",")
    dup = np.flatnonzero(faults & (kind == 5))
    body = pa.concat_arrays([lines, lines.take(pa.array(dup))])
    text = "venue_code,id_number,check_in,check_out\n" + "\n".join(body.to_pylist()) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / max(seconds, 1e-9):,.0f} rows/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--persons", type=int, default=400_000)
    parser.add_argument("--venues", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory(prefix="shuzhi-ingest-bench-") as tmp:
        feeds, lake = Path(tmp) / "feeds", Path(tmp) / "data" / "lake"
        venues = write_registry(feeds / "venue" / "registry.csv", args.venues)
        ids = _ids(args.persons, rng)
        for d in range(args.days):
            day = dt.date(2020, 1, 20) + dt.timedelta(days=d)
            write_scans(feeds / "venue" / f"scans_{day:%Y%m%d}.csv", day, args.rows, ids, venues, rng)
        size = sum(p.stat().st_size for p in feeds.rglob("*.csv")) / 1e6
        from shuzhi.ingest import ingest

        wall, cpu = time.perf_counter(), time.process_time()
        report = ingest(feeds, lake, today=dt.date(2020, 2, 1))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        scans = report.feeds["venue.scans"]
        print(
            f"{scans.rows_read:,} scan rows ({size:.0f} MB): {wall:.2f} s wall, {cpu:.2f} s CPU (all threads)"
        )
        print(f"  wall: {_rate(scans.rows_read, wall)}; per CPU second: {_rate(scans.rows_read, cpu)}")
        print(f"  landed {scans.rows_landed:,}, quarantined {scans.quarantined}")
        for f in report.files:
            print(f"  {f.file}: {f.rows_read:,} rows in {f.seconds:.2f} s, {_rate(f.rows_read, f.seconds)}")
        wall = time.perf_counter()
        again = ingest(feeds, lake, today=dt.date(2020, 2, 1))
        skipped = again.totals.files_skipped
        print(
            f"re-ingest: {skipped} of {again.totals.files} files skipped, {time.perf_counter() - wall:.2f} s"
        )


if __name__ == "__main__":
    main()
