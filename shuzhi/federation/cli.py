"""``shuzhi federation``: join a federation, send a message to another region, read the log and the national
view. A message goes over HTTP to the recipient's ``/federation/messages`` (its signed receipt is checked and
kept) or, for an offline exchange, into a file that ``shuzhi federation receive`` takes at the other end."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shuzhi.credentials.cli import PASSPHRASE_ENV
from shuzhi.settings import DataDir

app = typer.Typer(no_args_is_help=True, help=__doc__)
REFUSALS_SHOWN = 5  # refused rows printed per message; the log keeps every one
console = Console()
DataOption = Annotated[
    Path | None, typer.Option("--data", "-d", help="Data directory (default: $SHUZHI_DATA).")
]
RegionOption = Annotated[str, typer.Option("--region", "-r", help="This instance's region (GB/T 2260).")]


def _member(data: Path | None, region: str):
    return member_of(DataDir.resolve(data), region)


def member_of(where: DataDir, region: str, store=None):
    """The federation member kept in ``where`` (its keys unlocked by ``$SHUZHI_KEY_PASSPHRASE`` if set)."""
    from shuzhi.cli import _store
    from shuzhi.federation.exchange import Member

    passphrase = os.environ.get(PASSPHRASE_ENV, "").encode() or None
    return Member.of(where, store or _store(where), region, passphrase)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.command()
def join(
    national_list: Annotated[Path, typer.Argument(help="The signed national trust list (COSE).")],
    anchor: Annotated[Path, typer.Argument(help="The national authority's public key (PEM).")],
    pseudonym_key: Annotated[
        Path | None, typer.Option(help="The federation's shared pseudonym key file (before any ingest).")
    ] = None,
    data: DataOption = None,
) -> None:
    """Join a federation: install its national trust list and, if given, its shared pseudonym key."""
    from shuzhi.federation.exchange import join as join_federation

    key = pseudonym_key.read_bytes() if pseudonym_key else None
    trust = join_federation(DataDir.resolve(data), national_list.read_bytes(), anchor.read_bytes(), key)
    console.print(f"Joined: {len(trust.keys)} trusted keys of {len({k.region for k in trust.keys})} regions.")


@app.command()
def send(
    to: Annotated[str, typer.Option(help="The recipient region (GB/T 2260, 100000 for the nation).")],
    kind: Annotated[str, typer.Option(help="handover | statistics | trust_list")],
    region: RegionOption,
    url: Annotated[str | None, typer.Option(help="The recipient's base URL (https://...).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the signed message here instead (offline).")] = None,
    data: DataOption = None,
) -> None:
    """Compose, sign and send the next message of KIND to another region; check and keep its receipt.

    With --url, messages to that region still unanswered (a network failure, an --out file never delivered)
    go first, in order: receivers answer a repeat as a duplicate, so nothing lands twice. The URL is
    remembered: ``deliver`` (or ``shuzhi serve --deliver-every``) retries what is still unanswered."""
    import httpx

    from shuzhi.federation.delivery import deliver_pending, over_http, remember
    from shuzhi.federation.exchange import compose

    if (url is None) == (out is None):
        raise typer.BadParameter("give either --url or --out")
    member = _member(data, region)
    if url is not None:
        try:
            remember(member.data, to, url)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    sealed = compose(member, to, kind, _now())
    if out is not None:
        out.write_bytes(sealed)
        console.print(f"Wrote {len(sealed):,} bytes to {out}.")
        return
    try:
        delivered = deliver_pending(member, to, over_http(url), _now())
    except (ConnectionError, httpx.HTTPError) as exc:
        console.print(f"{to} not reached ({exc}): the message waits for `shuzhi federation deliver`.")
        raise typer.Exit(1) from exc
    _report(to, delivered)


def _report(to: str, delivered: list) -> None:
    for done in delivered:
        if done.receipt is None:
            console.print(f"{to} could not open message {done.seq}: {done.refusal}")
            continue
        answer = done.receipt
        console.print(f"{to}: message {done.seq} {answer.status} {answer.reason} landed {answer.landed}")
        for row in answer.rejected_rows[:REFUSALS_SHOWN]:
            console.print(f"  refused {row['table']} row {row['row']}: {row['field']}: {row['reason']}")
        if len(answer.rejected_rows) > REFUSALS_SHOWN:
            more = len(answer.rejected_rows) - REFUSALS_SHOWN
            console.print(f"  ... and {more:,} more refused rows (`shuzhi federation log` keeps them all)")


@app.command("exchange")
def exchange_command(region: RegionOption, data: DataOption = None) -> None:
    """After ``shuzhi analyse``: send every region ``send --url`` has reached what concerns it (the nation the
    open statistics, a region a handover of its people; the nation its trust list), then all unanswered."""
    from shuzhi.federation.delivery import exchange

    _print_round(exchange(_member(data, region), _now()))


def _print_round(results: dict) -> None:
    for to, result in results.items():
        if isinstance(result, Exception):
            console.print(f"{to} not reached, its messages wait: {result}")
        else:
            _report(to, result)
    if not results:
        console.print("Nothing waits for an answer.")


@app.command()
def deliver(
    region: RegionOption,
    every: Annotated[
        float | None, typer.Option(min=1, help="Go on: a round every this many seconds, until interrupted.")
    ] = None,
    after_analysis: Annotated[
        bool, typer.Option("--after-analysis", help="With --every: exchange each new analysis as it lands.")
    ] = False,
    data: DataOption = None,
) -> None:
    """Send again every message still unanswered, to every region ``send --url`` has reached before."""
    from shuzhi.federation.delivery import Courier, deliver_everywhere

    member = _member(data, region)
    if every is None:
        _print_round(deliver_everywhere(member, _now()))
        return
    courier = Courier(member, every, after_analysis=after_analysis).start()
    console.print(f"Delivering every {every:g} s; Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        courier.stop()


@app.command()
def peers(region: RegionOption, data: DataOption = None) -> None:
    """The regions this instance sends to over HTTP: where, and how many messages wait for their answer."""
    from shuzhi.federation.delivery import peers as known
    from shuzhi.federation.delivery import pending

    member = _member(data, region)
    table = Table("region", "url", "unanswered")
    for to, url in sorted(known(member.data).items()):
        table.add_row(to, url, str(len(pending(member, to))))
    console.print(table)


@app.command("publish-trust")
def publish_trust(data: DataOption = None) -> None:
    """(National authority) Merge the regions' trust lists into a new signed national list; then send it
    to each member with ``send --kind trust_list``."""
    from shuzhi.credentials.keys import NATIONAL
    from shuzhi.federation.exchange import publish_national_list

    merged = publish_national_list(_member(data, NATIONAL), _now())
    console.print(
        f"National list: {len(merged.keys)} keys of {len({k.region for k in merged.keys})} regions."
    )


@app.command()
def receive(
    message: Annotated[Path, typer.Argument(help="A signed message file.")],
    region: RegionOption,
    receipt: Annotated[Path | None, typer.Option(help="Write the signed receipt here.")] = None,
    data: DataOption = None,
) -> None:
    """Accept a signed message delivered as a file (offline exchange); write its signed receipt."""
    from shuzhi.federation.exchange import accept

    answer = accept(_member(data, region), message.read_bytes(), _now())
    target = receipt or message.with_suffix(".receipt.cose")
    target.write_bytes(answer)
    console.print(f"Receipt written to {target}.")


@app.command()
def log(
    region: RegionOption,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    data: DataOption = None,
) -> None:
    """The newest messages sent and received, with what became of them."""
    from shuzhi.federation.exchange import messages

    member = _member(data, region)
    table = Table("dir", "peer", "kind", "seq", "status", "reason", "outcome")
    with member.store.session() as session:
        for m in messages(session, limit):
            outcome = json.dumps(m["outcome"].get("landed", {}), ensure_ascii=False)
            table.add_row(
                m["direction"], m["peer"], m["kind"], str(m["seq"]), m["status"], m["reason"], outcome
            )
    console.print(table)


@app.command()
def national(data: DataOption = None) -> None:
    """The national view over the statistics the regions sent: each region's last day, and the nation's."""
    from shuzhi.engine import connect
    from shuzhi.federation.national import national_view

    _print_national(national_view(connect(lake=DataDir.resolve(data).lake)).to_pylist())


def _print_national(rows: list[dict]) -> None:
    if not rows:
        console.print("No region has sent statistics yet.")
        return
    last = max(r["day"] for r in rows)
    table = Table("region", "day", "new", "new 14 d", "cumulative", "high", "medium", "low", "withheld")
    for r in (r for r in rows if r["day"] == last):
        cells = [r[c] for c in ("new_cases", "new_14d", "cumulative", "counties_high", "counties_medium")]
        table.add_row(
            r["region"],
            str(r["day"]),
            *("—" if v is None else str(v) for v in cells),
            str(r["counties_low"]),
            str(r["withheld"]),
        )
    console.print(table)


@app.command()
def trial(
    data: Annotated[Path, typer.Option("--data", "-d", help="Folder for the three instances.")] = Path(
        "shuzhi-federation"
    ),
    persons: Annotated[int, typer.Option(min=1000, help="Residents of the simulated Zhejiang.")] = 20_000,
    days: Annotated[int, typer.Option(min=3, max=60, help="Days simulated.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 3,
) -> None:
    """Try a federation on this machine: the nation, Wenzhou (a simulated Zhejiang, analysed) and Ningbo (its
    residents) as three instances, joined; one exchange round; what it changed."""
    from shuzhi.console import step_progress
    from shuzhi.credentials.keys import NATIONAL
    from shuzhi.federation import trial as federation_trial

    console.print(f"Three instances under {data}: the nation 100000, Wenzhou 330300, Ningbo 330200")
    with step_progress() as progress:
        members = federation_trial.prepare(data, persons, days, seed, progress=progress)
    done = federation_trial.exchange_round(members, _now())
    _print_round(done.delivered)
    console.print(
        f"Ningbo residents with a red code: {done.red_before:,} before the handover, {done.red_after:,} after"
    )
    _print_national(done.national.to_pylist())
    nation = members[NATIONAL].root
    console.print(f"See it: shuzhi serve --data {nation} --region {NATIONAL}  (the public page)")
