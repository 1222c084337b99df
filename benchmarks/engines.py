"""Benchmark: the same trace on DuckDB and on Spark (local mode), in one run, with the ratio of their times.

The lake is the one ``benchmarks/trace.py`` builds (its generator is imported, not repeated): synthetic venue
stays over Zipf-popular venues, residents, employments and 1,000 cases diagnosed in the last three days, laid
out as ingestion lays it out. Each engine then runs ``shuzhi.tracing.trace`` under one edition, in its own
process, reading the very same files through the very same Ibis expressions:

* ``duckdb`` — embedded DuckDB with a memory limit;
* ``spark``  — a local Spark session (``local[*]``) with that much driver memory; the session's start-up is
  timed apart from the trace, and the peak memory is the Python process's plus the JVM's.

Both traces must find the same contacts (the run fails otherwise). Target: Spark local within 15x DuckDB.

    python benchmarks/engines.py                       # 20M stays
    python benchmarks/engines.py --stays 1000000       # a quick run
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from harness import in_child

TARGET = 15.0


def _trace_benchmark():
    """``benchmarks/trace.py`` as a module (its name would shadow the standard library's ``trace``)."""
    spec = importlib.util.spec_from_file_location("trace_benchmark", Path(__file__).with_name("trace.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(lake: str, stays: int, days: int, cases: int) -> dict:
    return _trace_benchmark().generate(lake, stays, days, cases)


def run_trace(engine_name: str, lake: str, edition: str, memory: str) -> dict:
    """Trace every case on ``engine_name``; the time, what was found and the engine's start-up time."""
    from shuzhi.engine import connect
    from shuzhi.tracing import load_policy, trace

    started = time.perf_counter()
    engine = connect(engine_name, lake=lake, memory_limit=memory)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    result = trace(engine, load_policy(edition))
    seconds = time.perf_counter() - started
    contacts = result.contacts
    found = sorted(zip(contacts["case_key"].to_pylist(), contacts["contact_key"].to_pylist(), strict=True))
    out = {
        "open": opened,
        "trace": seconds,
        "cases": result.cases.num_rows,
        "contacts": contacts.num_rows,
        "fingerprint": hash(tuple(found)),
        "jvm_mib": _jvm_peak_mib() if engine_name == "spark" else 0.0,
    }
    if engine_name == "spark":
        engine.session.stop()
    return out


def _jvm_peak_mib() -> float:
    """The peak resident memory (VmHWM) of this process's JVM children, in MiB (Linux; 0 elsewhere)."""
    import psutil

    peak = 0.0
    for child in psutil.Process().children(recursive=True):
        status = Path(f"/proc/{child.pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak += int(line.split()[1]) / 1024
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=20_000_000)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--edition", default="2022-9th")
    parser.add_argument("--memory", default="4GB", help="DuckDB memory limit and Spark driver memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shuzhi-engines-bench-") as lake:
        made = in_child(generate, lake, args.stays, args.days, args.cases)
        duck = in_child(run_trace, "duckdb", lake, args.edition, args.memory)
        spark = in_child(run_trace, "spark", lake, args.edition, args.memory)
    ratio = spark["trace"] / duck["trace"]
    print(
        f"\n{made['stays']:,} stays, {made['persons']:,} persons, {made['venues']:,} venues, {args.days} days"
    )
    print(f"  {args.cases:,} cases, edition {args.edition}, memory {args.memory}, {os.cpu_count()} CPUs")
    for name, run in (("duckdb", duck), ("spark", spark)):
        memory = f"{run['peak_mib']:6.0f} MiB peak (Python)"
        if run["jvm_mib"]:
            memory += f" + {run['jvm_mib']:6.0f} MiB (JVM)"
        print(
            f"  {name:7s} trace {run['trace']:7.2f} s   open {run['open']:5.2f} s   "
            f"{run['contacts']:,} contacts of {run['cases']:,} cases   {memory}"
        )
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"  spark/duckdb {ratio:5.1f}x ({verdict} the {TARGET:.0f}x target)")
    if spark["fingerprint"] != duck["fingerprint"] or spark["contacts"] != duck["contacts"]:
        sys.exit("the engines found different contacts")


if __name__ == "__main__":
    main()
