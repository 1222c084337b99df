"""One ingest run: find the feed files; parse, validate, pseudonymise and commit each to the lake.

Files go in order: the venue registry first (scans are checked against it), then the other feeds, each feed's
files by name; the next file is read and parsed in a background thread while the current one is validated and
committed, and the feeds after the venue registry are spread over worker processes (one per CPU), costliest
first, each feed's files in order in one process.
A file is the unit of work and of atomicity. Its landed rows are written as one part per day of its canonical
table, its rejected rows as one quarantine part; only then is it recorded in the lake's ledger. A file already
in the ledger (same sha256) is skipped. A file whose ingestion was interrupted is not in the ledger, so the
next run redoes it: its parts are rewritten with identical content (names and content depend only on the file
and on the lake before it), and parts of the interrupted attempt that are not rewritten are removed (a
``.pending`` mark in the ledger says which file was interrupted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import model, regions
from shuzhi.ingest.adapters import FEEDS, Feed, feed_for
from shuzhi.ingest.fields import Lookups
from shuzhi.ingest.parse import RawBatch, parse
from shuzhi.ingest.report import INGESTED, SKIPPED, FileResult, Report
from shuzhi.ingest.validate import Context, Outcome, validate
from shuzhi.lake import Lake, part_name
from shuzhi.privacy.pseudonym import KEY_FILE_NAME, Pseudonymiser

log = logging.getLogger("shuzhi.ingest")

Progress = Callable[[str, int, int], None]
CRASH_ENV = "SHUZHI_INGEST_CRASH_AFTER_PARTS"
IGNORED_DIRS = ("truth",)  # the simulator's ground truth lives next to the feeds
IGNORED_FILES = ("manifest.json",)
PARALLEL_MIN_BYTES = 64 * 2**20  # below this, starting worker processes costs more than it saves
PARSE_ALONE, PARSE_BESIDE = 2, 1  # parser threads for the first file, and beside a file being validated
LOOKUP_TABLES = (model.VENUES,)  # other feeds' rows are checked against these tables: they land first
# Ingest seconds per byte of each format relative to CSV, measured on the simulator's feeds: a Parquet byte
# holds about six times the rows of a CSV byte. Worker processes take the costliest feeds first.
COST_PER_BYTE = {"csv": 1.0, "jsonl": 1.5, "parquet": 6.0}


class SimulatedCrash(RuntimeError):
    """Raised by the fault-injection hook after the configured number of part writes."""


def ingest(
    feed_dir: Path | str,
    lake_dir: Path | str,
    *,
    secrets_dir: Path | str | None = None,
    key_file: Path | str | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
    crash_after_parts: int | None = None,
    workers: int | None = None,
) -> Report:
    """Ingest every feed file under ``feed_dir`` into the lake at ``lake_dir``; returns the report.

    The pseudonym key is ``key_file``, else ``<secrets_dir>/pseudonym.key``, else ``<lake>/../secrets/
    pseudonym.key`` (created on first use). ``progress(feed, files_done, files_total)`` is called as files are
    done. ``today`` (default: the local date) bounds birth dates and dates the quarantine.
    ``crash_after_parts`` (or ``$SHUZHI_INGEST_CRASH_AFTER_PARTS``) raises ``SimulatedCrash`` after that many
    part writes, for tests. ``workers`` processes (default: one per CPU when the files reach
    ``PARALLEL_MIN_BYTES``) ingest the feeds side by side once the venue registry has landed; a feed's
    files stay in order within one process. A crash hook runs everything in this process.
    """
    if not Path(feed_dir).is_dir():
        raise FileNotFoundError(f"no feed directory {feed_dir}")
    lake = Lake(lake_dir)
    if key_file is None:
        secrets = Path(secrets_dir) if secrets_dir is not None else lake.root.parent / "secrets"
        key_file = secrets / KEY_FILE_NAME
    if crash_after_parts is None and os.environ.get(CRASH_ENV):
        crash_after_parts = int(os.environ[CRASH_ENV])
    pseudonymiser = Pseudonymiser.from_file(key_file)  # creates the key before any worker reads it
    run = _Run(lake, pseudonymiser, today or dt.date.today(), crash_after_parts)
    if crash_after_parts is not None:
        workers = 1
    return run.ingest(Path(feed_dir), progress, workers, Path(key_file))


def discover(feed_dir: Path) -> tuple[list[tuple[Feed, Path, str]], list[str]]:
    """Feed files in processing order (feeds in ``FEEDS`` order, files by name); files no feed reads."""
    found: dict[str, list[tuple[str, Path]]] = {f.name: [] for f in FEEDS}
    unrecognised: list[str] = []
    for path in sorted(p for p in feed_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(feed_dir).as_posix()
        if relative in IGNORED_FILES or relative.split("/")[0] in IGNORED_DIRS or path.name.startswith("."):
            continue
        feed = feed_for(relative)
        if feed is None:
            unrecognised.append(relative)
        else:
            found[feed.name].append((relative, path))
    feeds = sorted(FEEDS, key=lambda f: not f.registry)  # registries first (stable: then in FEEDS order)
    ordered = [(feed, path, rel) for feed in feeds for rel, path in sorted(found[feed.name])]
    return ordered, unrecognised


@dataclass
class _Loaded:
    sha: str
    batch: RawBatch | None  # None: the ledger had the file when it was read
    seconds: float


class _Run:
    def __init__(
        self, lake: Lake, pseudonymiser: Pseudonymiser, today: dt.date, crash_after: int | None
    ) -> None:
        self.lake = lake
        self.today = today
        self.crash_after = crash_after
        self.parts_written = 0
        self.ledger = lake.ledger()
        self.current_part = ""
        self._venues: pa.Array | None = None
        lookups = Lookups(
            regions=pa.array(sorted(regions.divisions()), pa.string()),
            provinces=regions.province_prefixes(),
            today=today,
            venues=self._venue_codes,
        )
        self.ctx = Context(lookups, pseudonymiser, self._landed_keys, lambda table: lake.days(table.name))

    def ingest(
        self, feed_dir: Path, progress: Progress | None, workers: int | None, key_file: Path
    ) -> Report:
        report = Report(str(feed_dir), str(self.lake.root), dt.datetime.now(dt.UTC))
        _RECORDED.pop(self._recorded_key, None)  # the lake may have changed since (a sunset, retention)
        files, report.unrecognised = discover(feed_dir)
        for name in report.unrecognised:
            log.warning("no adapter reads %s; left alone", name)
        lookups = [f for f in files if f[0].table in LOOKUP_TABLES]
        report.files += self.ingest_files(lookups, progress)
        rest = [f for f in files if f[0].table not in LOOKUP_TABLES]
        workers = workers or _workers_worth_it(rest)
        if workers > 1 and len({feed.name for feed, _, _ in rest}) > 1:
            report.files += _in_processes(rest, workers, self.lake.root, key_file, self.today, progress)
        else:
            report.files += self.ingest_files(rest, progress)
        report.finished = dt.datetime.now(dt.UTC)
        self.lake.write_report(report.to_json(), report.finished)
        totals_row = report.totals
        log.info(
            "ingested %d files: %d rows read, %d landed, %d quarantined",
            totals_row.files,
            totals_row.rows_read,
            totals_row.rows_landed,
            totals_row.rows_quarantined,
        )
        return report

    def ingest_files(
        self, files: list[tuple[Feed, Path, str]], progress: Progress | None
    ) -> list[FileResult]:
        """Ingest ``files`` in order; the next file is read and parsed while this one is validated."""
        results: list[FileResult] = []
        totals = {f.name: sum(1 for feed, _, _ in files if feed is f) for f in FEEDS}
        done = dict.fromkeys(totals, 0)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shuzhi-read") as reader:
            loading = [reader.submit(self._load, feed, path, PARSE_ALONE) for feed, path, _ in files[:1]]
            for i, (feed, _, relative) in enumerate(files):
                loaded = loading[i].result()
                if i + 1 < len(files):
                    loading.append(reader.submit(self._load, *files[i + 1][:2], PARSE_BESIDE))
                if progress and done[feed.name] == 0:
                    progress(feed.name, 0, totals[feed.name])
                results.append(self.ingest_file(feed, relative, loaded))
                done[feed.name] += 1
                if progress:
                    progress(feed.name, done[feed.name], totals[feed.name])
        return results

    def _load(self, feed: Feed, path: Path, workers: int) -> _Loaded:
        """Read a file, hash it and, unless the ledger has it, parse it."""
        started = time.perf_counter()
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        batch = None if sha in self.ledger else parse(feed, data, workers)
        return _Loaded(sha, batch, time.perf_counter() - started)

    def ingest_file(self, feed: Feed, relative: str, loaded: _Loaded) -> FileResult:
        started = time.perf_counter() - loaded.seconds
        sha, batch = loaded.sha, loaded.batch
        if sha in self.ledger or batch is None:
            before = self.ledger[sha]
            note = f"already ingested as {before['file']} at {before['ingested_at']}"
            log.info("%s: skipped, %s", relative, note)
            return FileResult(feed.name, relative, sha, SKIPPED, note=note)
        self.current_part = part_name(sha)
        tolerated = dict(batch.tolerated)
        outcome = validate(feed, batch, self.ctx)
        parts = self._commit(feed, relative, sha, outcome)
        result = FileResult(
            feed.name,
            relative,
            sha,
            INGESTED,
            rows_read=outcome.landed.num_rows + len(outcome.rejects),
            rows_landed=outcome.landed.num_rows,
            quarantined=outcome.rejects.counts(),
            tolerated=tolerated,
            seconds=time.perf_counter() - started,
        )
        self._record(result, parts)
        log.info(
            "%s: %d rows read, %d landed, %d quarantined (%.2f s)",
            relative,
            result.rows_read,
            result.rows_landed,
            result.rows_quarantined,
            result.seconds,
        )
        return result

    # ---- committing ----------------------------------------------------------------------------------------
    def _commit(self, feed: Feed, relative: str, sha: str, outcome: Outcome) -> list[Path]:
        name = self.current_part
        # parts of an interrupted attempt at this very file: rewritten below, or removed if not
        leftovers = set(self.lake.parts_named(name)) if self.lake.interrupted(sha) else set()
        if leftovers:
            _RECORDED.pop(self._recorded_key, None)  # it counted the persons of the parts to be rewritten
        self.lake.begin(sha, relative)
        written = [
            self._write(feed.table.name, day, rows) for day, rows in _by_day(outcome.landed, feed.table)
        ]
        if len(outcome.rejects):
            quarantine = outcome.rejects.table(feed.name, relative, self.today)
            written.append(self._write(model.QUARANTINE.name, self.today, quarantine))
        regions = self._not_recorded_today(outcome.home_regions)
        if regions.num_rows:
            seen = pa.array([self.today] * regions.num_rows, pa.date32())
            regions = regions.append_column("seen_on", seen).cast(model.PERSON_REGIONS.schema)
            written.append(self._write(model.PERSON_REGIONS.name, self.today, regions))
        for stale in leftovers - set(written):
            stale.unlink(missing_ok=True)
        if feed.table is model.VENUES:
            self._venues = None
        return written

    def _write(self, table: str, day: dt.date, rows: pa.Table) -> Path:
        path = self.lake.write_part(table, day, self.current_part, rows)
        self.parts_written += 1
        if self.crash_after is not None and self.parts_written >= self.crash_after:
            raise SimulatedCrash(f"simulated crash after {self.parts_written} part writes")
        return path

    def _record(self, result: FileResult, parts: list[Path]) -> None:
        entry = {
            "sha256": result.sha256,
            "feed": result.feed,
            "file": result.file,
            "rows_read": result.rows_read,
            "rows_landed": result.rows_landed,
            "quarantined": result.quarantined,
            "parts": [p.relative_to(self.lake.root).as_posix() for p in parts],
            "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self.lake.record(entry)
        self.ledger[result.sha256] = entry

    def _not_recorded_today(self, regions: pa.Table | None) -> pa.Table:
        """The home regions of persons today's partition does not hold yet: a person named by every feed
        is recorded once a day (the retention limit counts from that day), not once per file. Worker
        processes each keep their own record, so a person may be recorded once per worker."""
        if regions is None:
            return pa.table({"person_key": pa.array([], pa.int64())})
        recorded = _RECORDED.get(self._recorded_key)
        if recorded is None:
            held = self.lake.read(model.PERSON_REGIONS.name, ["person_key"], [self.today], self.current_part)
            recorded = _KeySet(np.unique(held.column("person_key").to_numpy()))  # workers' twice
            _RECORDED[self._recorded_key] = recorded
        return regions.filter(pa.array(recorded.add_new(regions["person_key"].to_numpy())))

    @property
    def _recorded_key(self) -> tuple[Path, dt.date]:
        return self.lake.root, self.today

    # ---- lookups -------------------------------------------------------------------------------------------
    def _venue_codes(self) -> pa.Array:
        if self._venues is None:
            codes = self.lake.read(model.VENUES.name, ["venue_code"]).column("venue_code")
            self._venues = pc.unique(codes.combine_chunks()) if len(codes) else pa.array([], pa.string())
        return self._venues

    def _landed_keys(
        self, table: model.Table, days: list[dt.date] | None, where: pc.Expression | None
    ) -> pa.Table:
        """Natural keys in the lake, leaving out the parts of the file being ingested (a redo)."""
        return self.lake.read(table.name, list(table.key), days, exclude=self.current_part, where=where)


# Persons recorded in a lake's person_regions for a day, during one ingestion by this process: a worker
# process ingests several feeds in turn (one run each), and each would otherwise read the day's partition
# again. Worker processes start with each ingestion; the parent forgets its record when one begins.
_RECORDED: dict[tuple[Path, dt.date], _KeySet] = {}


class _KeySet:
    """A growing set of distinct int64 keys, asked about a batch of distinct keys at a time.

    A hashed index answers most of a batch (pandas builds its hash table once per index); keys added since
    it was built are looked up apart and folded into it when they pass ``REBUILD_AFTER``, so a day of
    files costs a rebuild per 65,536 new persons, not one per file.
    """

    REBUILD_AFTER = 65_536

    def __init__(self, keys: np.ndarray) -> None:
        """``keys``: distinct."""
        self._index = pd.Index(keys)
        self._recent = np.empty(0, np.int64)

    def add_new(self, keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` (distinct) are not in the set; those are added."""
        known = self._index.get_indexer(keys) >= 0
        if len(self._recent):
            known |= np.isin(keys, self._recent)
        self._recent = np.concatenate([self._recent, keys[~known]])
        if len(self._recent) > self.REBUILD_AFTER:
            self._index = self._index.append(pd.Index(self._recent))
            self._recent = np.empty(0, np.int64)
        return ~known


def _workers_worth_it(files: list[tuple[Feed, Path, str]]) -> int:
    """One process per CPU when the files are big enough to repay starting them, else this process alone."""
    size = sum(path.stat().st_size for _, path, _ in files)
    return (os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1


def _in_processes(
    files: list[tuple[Feed, Path, str]],
    workers: int,
    lake_root: Path,
    key_file: Path,
    today: dt.date,
    progress: Progress | None,
) -> list[FileResult]:
    """Ingest each feed's files in a worker process, costliest feeds first; results in ``files`` order.

    Feeds are independent once the venue registry has landed: each writes its own table and its own quarantine
    parts, and a feed's files stay in order inside one process, so duplicates are judged as in one process.
    """
    by_feed: dict[str, list[tuple[str, str]]] = {}
    cost: dict[str, float] = {}
    for feed, path, relative in files:
        by_feed.setdefault(feed.name, []).append((str(path), relative))
        cost[feed.name] = cost.get(feed.name, 0.0) + path.stat().st_size * COST_PER_BYTE[feed.format.name]
    order = sorted(by_feed, key=lambda name: -cost[name])
    results: dict[str, list[FileResult]] = {}
    context = mp.get_context("spawn")  # DuckDB and Arrow thread pools do not survive a fork
    with ProcessPoolExecutor(max_workers=min(workers, len(order)), mp_context=context) as pool:
        pending = {
            pool.submit(_ingest_feed, name, by_feed[name], str(lake_root), str(key_file), today): name
            for name in order
        }
        for future in as_completed(pending):
            name = pending[future]
            results[name] = future.result()
            if progress:
                progress(name, len(results[name]), len(by_feed[name]))
    return [result for name in by_feed for result in results[name]]


def _ingest_feed(
    name: str, files: list[tuple[str, str]], lake_root: str, key_file: str, today: dt.date
) -> list[FileResult]:
    """One worker's job: a feed's files, in order, into the lake."""
    feed = next(f for f in FEEDS if f.name == name)
    run = _Run(Lake(lake_root), Pseudonymiser.from_file(Path(key_file)), today, None)
    results = run.ingest_files([(feed, Path(path), relative) for path, relative in files], None)
    return results


def _by_day(rows: pa.Table, table: model.Table) -> list[tuple[dt.date, pa.Table]]:
    """The rows split by partition day (``model.Table.partition_days``), each day's rows in file order."""
    if rows.num_rows == 0:
        return []
    days = pc.cast(table.partition_days(rows), pa.int32()).to_numpy(zero_copy_only=False)
    order = np.argsort(days, kind="stable")
    ordered = rows.take(pa.array(order))
    sorted_days = days[order]
    starts = np.flatnonzero(np.r_[True, sorted_days[1:] != sorted_days[:-1]])
    ends = np.r_[starts[1:], len(sorted_days)]
    epoch = dt.date(1970, 1, 1)
    return [
        (epoch + dt.timedelta(days=int(sorted_days[s])), ordered.slice(s, e - s))
        for s, e in zip(starts, ends, strict=True)
    ]
