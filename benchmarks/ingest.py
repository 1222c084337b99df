"""Benchmark: simulate a province and ingest its feeds; rows/s and peak memory of each step.

Each step runs in its own process so its peak memory (max RSS) is its own. The baseline, measured in the
same run on the same files, is a bare pyarrow parse of every text feed with no validation: the ratio
ingest/baseline says what validation, pseudonyms and the lake cost on top of reading the bytes.

    python benchmarks/ingest.py --persons 1000000 --days 14
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from harness import in_child


def _simulate(out: str, persons: int, days: int, dirt: float) -> dict:
    from shuzhi.sim import run
    from shuzhi.sim.world import SimParams

    started = time.perf_counter()
    params = SimParams(persons=persons, days=days, start=dt.date(2020, 1, 20))
    manifest = run(Path(out), params, dirt_rate=dirt)
    rows = sum(f["rows"] for f in json.loads((Path(out) / "manifest.json").read_text())["files"])
    return {"seconds": time.perf_counter() - started, "rows": rows, "files": len(manifest.files)}


def _ingest(feeds: str, data: str) -> dict:
    from shuzhi.ingest import ingest

    started = time.perf_counter()
    report = ingest(Path(feeds), Path(data) / "lake", secrets_dir=Path(data) / "secrets")
    summary = json.loads(report.to_json())
    return {"seconds": time.perf_counter() - started, "rows": _total(summary, "rows_read")}


def _total(summary: dict, field: str) -> int:
    return sum(feed.get(field, 0) for feed in summary["feeds"].values())


def _baseline(feeds: str) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    started, rows = time.perf_counter(), 0
    for path in sorted(Path(feeds).rglob("*")):
        if path.suffix == ".csv":
            text = path.read_bytes()
            if path.parent.name == "health":  # GBK, with the odd UTF-8 line: decoded leniently
                text = text.decode("gbk", errors="replace").encode()
            delimiter = ";" if path.parent.name == "community" else ","
            options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "skip")
            rows += pacsv.read_csv(pa.BufferReader(text), parse_options=options).num_rows
        elif path.suffix == ".jsonl":
            rows += sum(1 for _ in path.open("rb"))  # pyarrow.json refuses a file with one bad line
        elif path.suffix == ".parquet" and "truth" not in path.parts:
            rows += pq.read_metadata(path).num_rows
    return {"seconds": time.perf_counter() - started, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--dirt", type=float, default=0.02)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shuzhi-bench-") as tmp:
        feeds, data = f"{tmp}/feeds", f"{tmp}/data"
        sim = in_child(_simulate, feeds, args.persons, args.days, args.dirt)
        base = in_child(_baseline, feeds)
        ing = in_child(_ingest, feeds, data)
    print(f"province: {args.persons:,} persons x {args.days} days, dirt {args.dirt:.0%}")
    for name, r in (("sim (write feeds)", sim), ("baseline (bare parse)", base), ("ingest", ing)):
        rate = r["rows"] / r["seconds"]
        figures = f"{r['rows']:>12,} rows {r['seconds']:8.1f} s {rate:>12,.0f} rows/s"
        print(f"{name:24s} {figures} {r['peak_mib']:8.0f} MiB peak")
    print(f"ingest time / bare parse time: {ing['seconds'] / base['seconds']:.2f}x")


if __name__ == "__main__":
    main()
