"""The ``shuzhi`` command line: thin commands over the library, with Rich progress and summaries.

Each command parses its options, calls one library function and presents the result; no rule or computation
lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shuzhi import __version__
from shuzhi.console import console, setup_logging, step_progress
from shuzhi.credentials import cli as credentials_cli
from shuzhi.federation import cli as federation_cli
from shuzhi.policy import editions
from shuzhi.settings import DataDir

app = typer.Typer(
    name="shuzhi",
    help="数治 shuzhi — govern a public-health emergency with data: one map, one code, one index.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

app.add_typer(
    credentials_cli.app, name="credentials", help="Signing keys, signed codes and certificates, trust lists."
)
app.add_typer(federation_cli.app, name="federation", help="Exchange with other regions; the national view.")
app.command("verify", help=credentials_cli.verify_command.__doc__)(credentials_cli.verify_command)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data", "-d", help="Data directory (feeds, lake, secrets). Default: $SHUZHI_DATA or ./shuzhi-data"
    ),
]
PersonsOption = Annotated[
    int, typer.Option(min=1_000, max=10_000_000, help="Residents of the synthetic province.")
]
DaysOption = Annotated[int, typer.Option(min=1, max=120, help="Days of daily life to simulate.")]
StartOption = Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="First simulated day.")]
SeedOption = Annotated[int, typer.Option(help="Random seed: the same seed gives the same province.")]
DirtOption = Annotated[
    float, typer.Option(min=0.0, max=0.5, help="Share of rows given a fault real feeds carry (0.02 = 2%).")
]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    setup_logging(verbose)


@app.command()
def version() -> None:
    """Print shuzhi's version."""
    console.print(f"shuzhi {__version__}")


SimParamsOption = Annotated[
    Path | None,
    typer.Option(
        "--params",
        help="A simulator parameter file in place of the shipped params.yaml (copy it and change a number: "
        "e.g. proximity.app_share to simulate an exposure-notification app).",
        exists=True,
        dir_okay=False,
    ),
]


@app.command()
def sim(
    out: Annotated[Path, typer.Argument(help="Directory to write the department feeds into.")],
    persons: PersonsOption = 200_000,
    days: DaysOption = 14,
    start: StartOption = dt.datetime(2020, 1, 20),
    seed: SeedOption = 1,
    dirt: DirtOption = 0.0,
    params: SimParamsOption = None,
) -> None:
    """Simulate a province on Zhejiang's real geography and write each department's feed in its own format.

    Writes the feeds, a manifest of what was written (and every injected fault by class) and the ground truth
    (who infected whom, who truly had close contact) under OUT/truth.
    """
    manifest = _simulate(out, persons, days, start.date(), seed, dirt, params)
    console.print(f"[green]Wrote[/] {len(manifest.files)} feed files for {persons:,} persons to {out}")


def _simulate(
    out: Path,
    persons: int,
    days: int,
    start: dt.date,
    seed: int,
    dirt: float,
    params_file: Path | None = None,
):
    from shuzhi.sim import run
    from shuzhi.sim.world import ParamsError, SimParams, load_params

    if params_file is not None:
        try:
            load_params(params_file)
        except ParamsError as exc:
            raise typer.BadParameter(str(exc), param_hint="--params") from exc
    params = SimParams(persons=persons, days=days, start=start, seed=seed, params_file=params_file)
    with step_progress() as progress:
        return run(out, params, dirt_rate=dirt, progress=progress)


@app.command()
def ingest(
    feeds: Annotated[Path, typer.Argument(help="Directory of department feeds (layout: docs/feeds.md).")],
    data: DataOption = None,
) -> None:
    """Validate department feeds, pseudonymise ID numbers and land good rows in the Parquet lake.

    Bad rows go to the quarantine table with file, line, field and reason; re-ingesting a file adds nothing.
    """
    report = _ingest(feeds, DataDir.resolve(data))
    console.print(report.rich_table())


def _ingest(feeds: Path, data: DataDir):
    from shuzhi.ingest import ingest as run_ingest

    with step_progress() as progress:
        return run_ingest(feeds, data.lake, secrets_dir=data.secrets, progress=progress)


EditionOption = Annotated[
    str,
    typer.Option(
        help=f"Policy edition: a shipped name ({', '.join(editions())}) or a folder of policy files."
    ),
]


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        envvar="SHUZHI_ENGINE",
        help="Analytic engine: embedded DuckDB, or PySpark (pip install 'shuzhi\\[spark]'; docs/scale.md).",
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        envvar="SHUZHI_SPARK_MASTER",
        help="Spark master URL (spark://host:7077, yarn, local[8]); implies --engine spark.",
    ),
]


@app.command()
def analyse(
    data: DataOption = None,
    edition: EditionOption = "2020-5th",
    step: Annotated[
        list[str] | None,
        typer.Option(help="Run only these steps (trace, risk, index, codes, followup, ...); repeatable."),
    ] = None,
    engine: EngineOption = EngineName.duckdb,
    spark_master: SparkMasterOption = None,
) -> None:
    """Trace contacts, rate every county, compute the index and colour every health code from the lake.

    The health declarations residents made in the app land in the lake first, so they count. Results go back
    into the lake as derived tables (contacts, area_risk, five_colour, index, codes, code_changes,
    code_counts, followup...) and the transmission graph into DATA/outputs/graph.json.
    """
    where = DataDir.resolve(data)
    _print_analysis(_analyse(where, edition, tuple(step) if step else None, engine, spark_master))


@app.command()
def trace(
    data: DataOption = None,
    edition: EditionOption = "2020-5th",
    engine: EngineOption = EngineName.duckdb,
    spark_master: SparkMasterOption = None,
) -> None:
    """Trace close contacts, contacts of contacts and companions of every confirmed or asymptomatic case."""
    _print_analysis(_analyse(DataDir.resolve(data), edition, ("trace",), engine, spark_master))


@app.command()
def codes(
    data: DataOption = None,
    edition: EditionOption = "2020-5th",
    engine: EngineOption = EngineName.duckdb,
    spark_master: SparkMasterOption = None,
) -> None:
    """Colour every resident's health code, with the rule and evidence that set it (after trace and risk)."""
    _print_analysis(_analyse(DataDir.resolve(data), edition, ("codes",), engine, spark_master))


@app.command()
def followup(
    data: DataOption = None,
    edition: EditionOption = "2020-5th",
    day: Annotated[
        str | None, typer.Option(help="The day (YYYY-MM-DD; default: the last day of the lake).")
    ] = None,
    shown: Annotated[
        int, typer.Option("--show", min=0, help="List this many people, most urgent first.")
    ] = 20,
    county: Annotated[
        str | None,
        typer.Option(help="Only the people registered in this county (six-digit code): its team's list."),
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the whole worklist to this CSV file.")] = None,
) -> None:
    """The follow-up worklist of a day: everyone under a management measure (isolation, home monitoring),
    which day of it, who did not make yesterday's health checks, the tests taken, missed and next, and who
    to refer: a positive test, declared symptoms (after analyse)."""
    from collections import Counter

    import pyarrow.compute as pc
    from rich.table import Table

    from shuzhi.engine import connect
    from shuzhi.followup import STATUSES, to_csv
    from shuzhi.followup import followup as worklist_of
    from shuzhi.pipeline import period
    from shuzhi.policy import PolicyError

    if county is not None and not re.fullmatch(r"\d{6}", county):
        raise typer.BadParameter(f"{county!r} is not a six-digit county code", param_hint="--county")
    engine = connect(lake=DataDir.resolve(data).lake)
    try:
        on = dt.date.fromisoformat(day) if day else period(engine)[1]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--day") from error
    try:
        worklist = worklist_of(engine, edition, on, allow_missing=True)
    except PolicyError as error:
        raise typer.BadParameter(str(error), param_hint="--edition") from error
    if county is not None:
        worklist = worklist.filter(pc.equal(worklist["county_code"], county))
    counts = Counter(zip(worklist["measure"].to_pylist(), worklist["status"].to_pylist(), strict=True))
    where = f"{on} ({edition})" + (f" in {county}" if county else "")
    summary = Table(title=f"Follow-up on {where}: {worklist.num_rows:,} people under a measure")
    summary.add_column("measure")
    for status in STATUSES:
        summary.add_column(status, justify="right")
    for measure in sorted({m for m, _ in counts}):
        summary.add_row(measure, *[f"{counts[measure, status]:,}" for status in STATUSES])
    console.print(summary)
    people = Table(title=f"The {min(shown, worklist.num_rows)} most urgent")
    for column in ("person", "status", "reason"):
        people.add_column(column)
    for row in worklist.slice(0, shown).to_pylist():
        people.add_row(str(row["person_key"]), row["status"], row["reason"])
    if shown:
        console.print(people)
    if csv:
        to_csv(worklist, csv)
        console.print(f"Worklist: {csv}")


@app.command()
def catalogue(
    data: DataOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON.")] = False,
) -> None:
    """What data is held (source, rows, days, freshness, quarantine), which algorithms ran (policy files'
    SHA-256) and what they achieved (measured on the lake)."""
    from rich.table import Table

    from shuzhi.catalogue import catalogue as build

    found = build(DataDir.resolve(data))
    if as_json:
        console.print_json(json.dumps(found.as_dict(), default=str, ensure_ascii=False))
        return
    held = Table(title="Data held")
    for column in ("table", "kind", "rows", "days", "last written", "from", "quarantined"):
        held.add_column(column, justify="right" if column in ("rows", "quarantined") else "left")
    for h in found.held:
        days = f"{h.first_day} … {h.last_day}" if h.first_day else ""
        held.add_row(
            h.name,
            h.kind,
            f"{h.rows:,}",
            days,
            str(h.last_written or ""),
            ", ".join(h.sources),
            f"{h.quarantined:,}",
        )
    console.print(held)
    runs = Table(title="Algorithms (last run of each step)")
    for column in ("step", "edition", "tables", "policy files (SHA-256)", "ran at", "seconds"):
        runs.add_column(column)
    for name, run in found.algorithms.items():
        policy = ", ".join(f"{section} {digest[:12]}" for section, digest in run["policy"].items())
        runs.add_row(
            name, run["edition"], ", ".join(run["tables"]), policy, run["ran_at"], str(run["seconds"])
        )
    console.print(runs)
    for m in found.measures:
        value = "—" if m.value is None else f"{m.value:g} {m.unit}"
        console.print(f"{m.name}: [bold]{value}[/] ({m.how})")


@app.command()
def supplies(
    stock: Annotated[
        Path, typer.Option(help="CSV of item,holder,quantity: what each city's warehouse holds.")
    ],
    data: DataOption = None,
    edition: EditionOption = "2020-5th",
    day: Annotated[
        str | None, typer.Option(help="Plan as of this day (YYYY-MM-DD; default: the last rated).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every county's need and every shipment.")
    ] = False,
) -> None:
    """Allocate masks, test kits and beds across counties by need: high-risk counties first, equal shares
    within a level, the fewest units moved between cities (after analyse)."""
    from rich.table import Table

    from shuzhi.engine import connect
    from shuzhi.supplies import StockError, check_plan_day, read_stock, supplies_policy, supply_plans

    where = DataDir.resolve(data)
    try:
        held = read_stock(stock.read_text(encoding="utf-8"), set(supplies_policy(edition).items))
    except StockError as error:
        raise typer.BadParameter(f"{stock}: {error}", param_hint="--stock") from error
    try:
        as_of = dt.date.fromisoformat(day) if day else None
        check_plan_day(as_of)
    except ValueError as error:  # not a date, or a day no plan can be made for
        raise typer.BadParameter(str(error), param_hint="--day") from error
    planned_on, plans = supply_plans(connect(lake=where.lake), edition, held, as_of)
    if as_json:
        console.print_json(json.dumps([asdict(p) for p in plans], default=str, ensure_ascii=False))
        return
    table = Table(title=f"Supplies plan for the week from {planned_on} ({edition})")
    for column in ("item", "need", "allocated", "short", "shipments", "moved between cities"):
        table.add_column(column, justify="left" if column == "item" else "right")
    for p in plans:
        need = sum(n.quantity for n in p.needs)
        across = sum(s.quantity for s in p.shipments if s.across_cities)
        table.add_row(
            f"{p.item} ({p.unit})",
            f"{need:,}",
            f"{sum(p.allocated.values()):,}",
            f"{p.short:,}",
            f"{len(p.shipments):,}",
            f"{across:,}",
        )
    console.print(table)


@app.command()
def retention(
    data: DataOption = None,
    edition: EditionOption = "2020-5th",
    today: Annotated[
        str | None, typer.Option(help="Count the limits back from this day (default: today).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete personal records older than the edition's retention limits (lake partitions, store rows);
    the audit log records what was deleted."""
    from shuzhi.privacy.retention import apply_retention, retention_policy

    where = DataDir.resolve(data)
    as_of = dt.date.fromisoformat(today) if today else dt.date.today()
    deleted = apply_retention(where, _store(where), retention_policy(edition), as_of, dry_run)
    _print_deleted("Would delete" if dry_run else "Deleted", deleted)


@app.command()
def sunset(
    confirm: Annotated[
        str, typer.Option(help='Type "the emergency is over" to delete every personal record.')
    ],
    data: DataOption = None,
) -> None:
    """The emergency is over: delete the feeds, every lake table that names persons, the store's personal
    rows and resident accounts, and the pseudonym key; keep aggregates and the audit chain."""
    from shuzhi.privacy.retention import sunset as run_sunset

    where = DataDir.resolve(data)
    try:
        deleted = run_sunset(where, _store(where), confirm)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--confirm") from error
    _print_deleted("Deleted", deleted)


def _store(where: DataDir):
    from shuzhi.api.settings import ApiSettings
    from shuzhi.store import Store, upgrade

    url = ApiSettings(data_dir=where.root).store_url
    upgrade(url)
    return Store(url)


def _print_deleted(verb: str, deleted) -> None:
    for table, partitions in deleted.partitions.items():
        console.print(f"{verb} {table}: {partitions:,} day partitions, {deleted.lake_rows[table]:,} rows")
    for table, rows in deleted.store_rows.items():
        console.print(f"{verb} {table}: {rows:,} rows of the store")
    for other in deleted.other:
        console.print(f"{verb} {other}")
    if not (deleted.partitions or deleted.store_rows or deleted.other):
        console.print("Nothing is past its retention limit.")


def _analyse(
    where: DataDir,
    edition: str,
    steps: tuple[str, ...] | None,
    engine: str = EngineName.duckdb,
    spark_master: str | None = None,
):
    from shuzhi.engine import connect
    from shuzhi.pipeline import analyse as run_analysis
    from shuzhi.policy import PolicyError

    landed_until = _land_from_the_app(where)
    name = "spark" if spark_master else str(engine)
    opened = connect(name, lake=where.lake, spark_master=spark_master)
    with step_progress() as progress:
        try:
            return run_analysis(
                where, edition, steps, engine=opened, progress=progress, app_declarations_until=landed_until
            )
        except PolicyError as error:  # a missing or malformed policy file: say which, no traceback
            raise typer.BadParameter(str(error), param_hint="--edition") from error


def _land_from_the_app(where: DataDir) -> dt.datetime | None:
    """The health declarations residents made in the app (the store) into the lake, so the analysis counts
    them: those made before the instant returned; nothing to do (None) for a data directory that has no
    store yet."""
    from shuzhi.api.settings import ApiSettings
    from shuzhi.ingest.app import land_app_declarations
    from shuzhi.lake import Lake
    from shuzhi.store import sqlite_url
    from shuzhi.store.db import DB_FILENAME

    url = ApiSettings(data_dir=where.root).store_url
    if url == sqlite_url(where.root) and not (where.root / DB_FILENAME).exists():
        return None
    until = dt.datetime.now(dt.UTC).replace(microsecond=0)
    landed = land_app_declarations(_store(where), Lake(where.lake), until)
    if landed:
        console.print(f"Health declarations made in the app, landed in the lake: {landed:,}")
    return until


def _print_analysis(result) -> None:
    from rich.table import Table

    table = Table(title=f"Analysis {result.start} … {result.end} under the {result.edition} edition")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [("index cases", result.cases)]
    rows += [(f"contacts: {k}", v) for k, v in result.contacts_by_class.items()]
    rows += [(f"codes: {k}", v) for k, v in result.codes_by_colour.items()]
    rows += [(f"counties: {k} risk", v) for k, v in result.counties_by_level.items()]
    for what, count in rows:
        table.add_row(what, f"{count:,}")
    console.print(table)
    if result.close_by_setting:
        settings = " · ".join(f"{k} {v:,}" for k, v in result.close_by_setting.items())
        console.print(f"Close contacts by setting: {settings}")
    if result.followup_by_status:
        statuses = " · ".join(f"{k} {v:,}" for k, v in result.followup_by_status.items())
        console.print(f"Follow-up on {result.end} (under a measure): {statuses}")
    if result.latest_rt:
        r = result.latest_rt
        console.print(
            f"R(t) of the province on {r['day']}: {r['rt_mean']:.2f} "
            f"(credible interval {r['rt_low']:.2f}-{r['rt_high']:.2f})"
        )
    if result.graph:
        console.print(f"Transmission graph: {result.graph}")


@app.command()
def replay(
    out: Annotated[Path, typer.Option(help="Where to write the rated cities (Parquet + map JSON).")] = Path(
        "shuzhi-data/outputs"
    ),
    edition: EditionOption = "2020-5th",
) -> None:
    """Rate every Chinese city of the real 2020 epidemic (daily cumulative counts) under the Feb 2020 rule,
    and estimate each city's R(t)."""
    _replay(edition, out)


def _replay(edition: str, out: Path) -> None:
    from shuzhi.decision.replay import write_real_rt
    from shuzhi.risk.replay import replay as run_replay

    path = run_replay(edition, out)
    console.print(
        f"[green]Rated[/] the real 2020 epidemic city by city: {path} and {path.with_suffix('.json')}"
    )
    console.print(f"[green]Estimated[/] every city's R(t): {write_real_rt(edition, out)}")


HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]
RegionOption = Annotated[
    str, typer.Option(help="GB/T 2260 code of this instance's region (its signing key).")
]


MqttOption = Annotated[
    str | None,
    typer.Option(
        "--mqtt",
        envvar="SHUZHI_MQTT_URL",
        help="Take people counters from this MQTT broker (mqtt://host:port). Default: off (scans only).",
    ),
]


DeliverOption = Annotated[
    float | None,
    typer.Option(
        "--deliver-every",
        min=1,
        help="As a federation member: send unanswered messages again every this many seconds. Default: off.",
    ),
]


ExchangeOption = Annotated[
    bool,
    typer.Option(
        "--exchange-after-analysis",
        help="With --deliver-every: send the exchange round (federation exchange) when a new analysis lands.",
    ),
]


WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Worker processes (each counts every scan in the live occupancy; one writes stays and alerts).",
    ),
]


@app.command()
def serve(
    data: DataOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    region: RegionOption = "330000",
    mqtt: MqttOption = None,
    deliver_every: DeliverOption = None,
    exchange_after_analysis: ExchangeOption = False,
    workers: WorkersOption = 1,
) -> None:
    """Serve the API (OpenAPI at /docs) and the pages at /web/ (dashboard, operations, resident, ...)."""
    if exchange_after_analysis and not deliver_every:
        raise typer.BadParameter("needs --deliver-every", param_hint="--exchange-after-analysis")
    if mqtt and workers > 1:
        raise typer.BadParameter(
            "people counters are taken by one process: serve them with --workers 1", param_hint="--mqtt"
        )
    _serve(DataDir.resolve(data), host, port, region, mqtt, deliver_every, exchange_after_analysis, workers)


def _serve(
    where: DataDir,
    host: str,
    port: int,
    region: str,
    mqtt: str | None = None,
    deliver_every: float | None = None,
    exchange_after_analysis: bool = False,
    workers: int = 1,
) -> None:
    import uvicorn

    from shuzhi.web.server import dashboard_app

    console.print(
        f"Pages: [bold]http://{host}:{port}/web/[/] (dashboard, operations, resident, checkpoint, enterprise;"
        " public without login)"
    )
    console.print(f"API docs: http://{host}:{port}/docs")
    web = dashboard_app(where.root, region)  # with several workers: keys and schema made once, here
    if workers > 1:
        return _serve_workers(web, where, host, port, region, workers, deliver_every, exchange_after_analysis)
    counters = None
    if mqtt:
        from shuzhi.realtime.mqtt import instance_subscriber

        counters = instance_subscriber(mqtt, web.state.realtime.counter_sink, where.root).start()
        web.state.counters = counters  # its status(): connection, counts, latest rejections
        console.print(f"People counters: MQTT [bold]{counters.address.host}:{counters.address.port}[/]")
    courier = None
    if deliver_every:
        store = web.state.services.store
        courier = _courier(where, store, region, deliver_every, exchange_after_analysis)
    try:
        uvicorn.run(web, host=host, port=port)
    finally:
        for worker in (counters, courier):
            if worker is not None:
                worker.stop()


def _serve_workers(
    web, where: DataDir, host: str, port: int, region: str, workers: int, every: float | None, after: bool
) -> None:
    """``workers`` processes of the app (the uvicorn factory); the courier, if any, in this one."""
    import uvicorn

    from shuzhi.settings import DATA_ENV
    from shuzhi.web.server import REGION_ENV

    os.environ[DATA_ENV], os.environ[REGION_ENV] = str(where.root), region
    courier = _courier(where, web.state.services.store, region, every, after) if every else None
    console.print(f"{workers} worker processes")
    try:
        uvicorn.run("shuzhi.web.server:app_from_env", factory=True, workers=workers, host=host, port=port)
    finally:
        if courier is not None:
            courier.stop()


def _courier(where: DataDir, store, region: str, every: float, after_analysis: bool):
    """The thread that sends unanswered federation messages again (see ``shuzhi.federation.delivery``)."""
    from shuzhi.federation.cli import member_of
    from shuzhi.federation.delivery import Courier

    courier = Courier(member_of(where, region, store), every, after_analysis=after_analysis).start()
    after = "; a new analysis is exchanged" if after_analysis else ""
    console.print(f"Federation: unanswered messages go again every {every:g} s{after}")
    return courier


@app.command()
def devices(
    mqtt: Annotated[
        str, typer.Option("--mqtt", envvar="SHUZHI_MQTT_URL", help="Broker to publish to (mqtt://host:port).")
    ] = "mqtt://127.0.0.1:1883",
    data: DataOption = None,
    venues: Annotated[int, typer.Option(min=1, max=10_000, help="How many venues get counters.")] = 20,
    minutes: Annotated[float, typer.Option(min=1, help="Simulated minutes to run.")] = 60,
    speed: Annotated[
        float, typer.Option(min=0.1, help="Simulated seconds per second (60: an hour a minute).")
    ] = 60,
    interval: Annotated[int, typer.Option(min=1, help="Seconds between a counter's messages.")] = 60,
    ramp: Annotated[
        float | None, typer.Option(help="Drive occupancy towards this share of capacity (1.1: 10% over).")
    ] = None,
    duplicates: Annotated[float, typer.Option(min=0, max=1, help="Share of messages sent twice.")] = 0.0,
    reorder: Annotated[float, typer.Option(min=0, max=1, help="Share of messages sent late.")] = 0.0,
    seed: SeedOption = 1,
) -> None:
    """Simulate venues' people counters publishing to an MQTT broker (venues of the data directory's
    registry if it has one, else made-up ones); prints what they counted."""
    from rich.table import Table

    from shuzhi.realtime.devices import CounterSimulator, demo_venues, lake_venues, publish

    where = DataDir.resolve(data)
    chosen = lake_venues(where.lake, venues, seed) if where.lake.exists() else []
    chosen = chosen or demo_venues(venues, seed)
    # start in the past so that, paced at ``speed``, the counters' clocks catch up with now as the run ends
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=minutes * (1 - 1 / speed))
    sim = CounterSimulator(
        chosen, seed=seed, start=start, interval=interval, ramp=ramp, duplicates=duplicates, reorder=reorder
    )
    console.print(
        f"{len(sim.devices)} counters at {len(chosen)} venues → {mqtt}: {minutes:g} simulated minutes "
        f"at {speed:g}× (Ctrl-C stops)"
    )
    try:
        sent = publish(mqtt, sim.run(minutes), speed=speed)
    except KeyboardInterrupt:
        sent = sim.sent
    table = Table(title=f"Counted ({sent:,} messages sent)")
    for column in ("venue", "category", "capacity", "entries", "exits", "inside"):
        table.add_column(column, justify="left" if column in ("venue", "category") else "right")
    for venue in chosen:
        t = sim.truth[venue.code]
        table.add_row(venue.code, venue.category, f"{venue.capacity:,}", f"{t.entries:,}", f"{t.exits:,}",
                      f"{t.inside:,}")  # fmt: skip
    console.print(table)


@app.command()
def demo(
    data: DataOption = None,
    persons: PersonsOption = 200_000,
    days: DaysOption = 14,
    seed: SeedOption = 1,
    dirt: DirtOption = 0.02,
    params: SimParamsOption = None,
    edition: EditionOption = "2020-5th",
    serve: Annotated[bool, typer.Option(help="End by serving the dashboard (Ctrl-C stops it).")] = True,
    port: PortOption = 8000,
    engine: EngineOption = EngineName.duckdb,
    spark_master: SparkMasterOption = None,
) -> None:
    """Run the whole road on a synthetic province: simulate → ingest → analyse (and replay the real 2020
    epidemic) → serve the dashboard."""
    where = DataDir.resolve(data)
    console.rule("[bold]shuzhi demo")
    console.print(
        f"Simulating {persons:,} residents of Zhejiang over {days} days (seed {seed}, dirt {dirt:.0%})"
    )
    _simulate(where.feeds, persons, days, dt.date(2020, 1, 20), seed, dirt, params)
    report = _ingest(where.feeds, where)
    console.print(report.rich_table())
    _print_lake_summary(where)
    _print_analysis(_analyse(where, edition, None, engine, spark_master))
    _replay("2020-5th", where.outputs)  # the dashboard's panel of the real 2020 epidemic
    _print_logins(where)
    if serve:
        _serve(where, "127.0.0.1", port, "330000")


def _print_logins(where: DataDir) -> None:
    from rich.table import Table

    from shuzhi.web import demo_accounts

    table = Table(title="Demo logins (this data directory only)")
    for column in ("username", "password", "role"):
        table.add_column(column)
    for username, password, role in demo_accounts(where.root):
        table.add_row(username, password, role)
    console.print(table)


def _print_lake_summary(where: DataDir) -> None:
    from rich.table import Table

    from shuzhi.engine import connect
    from shuzhi.model import TABLES

    engine = connect(lake=where.lake)
    table = Table(title="The lake", show_lines=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name in TABLES:
        if engine.has_table(name):
            table.add_row(name, f"{engine.table(name).count().execute():,}")
    console.print(table)
    console.print(f"Feeds:  {where.feeds}\nLake:   {where.lake}\nTruth:  {where.feeds / 'truth'}")


if __name__ == "__main__":
    app()
