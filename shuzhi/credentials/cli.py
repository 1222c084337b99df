"""The ``credentials`` command group: keys, issuing, trust lists and offline verification.

Mounted by the main CLI as ``shuzhi credentials ...`` and ``shuzhi verify``; also runs on its own as
``python -m shuzhi.credentials.cli``. Each command parses its options, calls the library and prints the
result; payloads go to stdout, everything else to stderr. Passphrases are read from an environment variable,
never from the command line, where they would land in shell history and process lists.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from shuzhi.credentials import acceptance, dsc, keys, qr, tokens, trustlist
from shuzhi.credentials.verifier import DEFAULT_SKEW, Verification, verify
from shuzhi.regions import divisions

app = typer.Typer(
    name="credentials",
    rich_markup_mode="markdown",
    help="Signed health codes and certificates: keys, issuing, trust lists and offline verification.",
    no_args_is_help=True,
)
trustlist_app = typer.Typer(
    help="Export, merge, inspect and anchor signed trust lists.", no_args_is_help=True
)
issue_app = typer.Typer(
    help="Issue a signed health code or certificate and print its QR payload (SZ1:...).", no_args_is_help=True
)
app.add_typer(trustlist_app, name="trustlist")
app.add_typer(issue_app, name="issue")

PASSPHRASE_ENV = "SHUZHI_KEY_PASSPHRASE"
StoreOption = Annotated[Path, typer.Option("--store", help="Key store directory (one folder per region).")]
RegionOption = Annotated[
    str, typer.Option("--region", help="GB/T 2260 code of the region, 100000 for the nation.")
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this ISO 8601 time (UTC if no offset). Default: now."),
]
PassphraseEnvOption = Annotated[
    str,
    typer.Option("--passphrase-env", help="Environment variable holding the private-key passphrase, if any."),
]
AnchorOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--anchor", help="PEM public key trusted to sign trust lists (the national key). Repeatable."
    ),
]


def _now(text: str | None) -> datetime:
    """An ISO 8601 time from the command line (UTC if it has no offset), or the current time."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _store(store: Path, passphrase_env: str) -> keys.KeyStore:
    passphrase = os.environ.get(passphrase_env)
    return keys.KeyStore(store, passphrase.encode("utf-8") if passphrase else None)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)


def _region_name(code: str | None) -> str:
    if code is None:
        return "?"
    region = divisions().get(code)
    return f"{code} {region.name}" if region else code


@app.command()
def keygen(
    region: RegionOption,
    store: StoreOption,
    validity_days: Annotated[int, typer.Option(min=1, help="Days the new key signs.")] = 365,
    max_token_days: Annotated[
        int,
        typer.Option(min=1, help="Longest lifetime of a token it signs; it stays trusted this long after."),
    ] = 30,
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Create a signing key for a region, or rotate it.

    The new key signs from now; the key it replaces stops signing but stays in the trust list until every
    token it signed has expired. Set $SHUZHI_KEY_PASSPHRASE to encrypt the private key."""
    try:
        info = _store(store, passphrase_env).generate(
            region, _now(now), timedelta(days=validity_days), timedelta(days=max_token_days)
        )
    except keys.KeyStoreError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"key {info.kid.hex()} for {_region_name(region)}", err=True)
    typer.echo(f"  signs {info.not_before.isoformat()} to {info.signing_until.isoformat()}", err=True)
    typer.echo(f"  trusted until {info.not_after.isoformat()}", err=True)
    typer.echo(f"  public key {store / region / (info.kid.hex() + '.pub.pem')}", err=True)
    typer.echo(info.kid.hex())


SubjectOption = Annotated[str, typer.Option(help="Pseudonym of the person (never an ID number).")]
LifetimeOption = Annotated[
    int | None,
    typer.Option(min=1, help="Token lifetime in minutes. Default: 5 (code), 72 h (test), 30 days."),
]
QrOption = Annotated[Path | None, typer.Option("--qr", help="Also write the QR code as PNG here.")]


def _build_and_issue(build, errors, region, store, subject, lifetime_minutes, qr_png, now, passphrase_env):
    """Build a credential (its ``errors`` fail the command) and issue it as :func:`_issue` does."""
    try:
        credential = build()
    except errors as exc:
        raise _fail(str(exc)) from None
    _issue(credential, region, store, subject, lifetime_minutes, qr_png, _now(now), passphrase_env)


def _issue(
    credential: tokens.Credential,
    region: str,
    store: Path,
    subject: str,
    lifetime_minutes: int | None,
    qr_png: Path | None,
    at: datetime,
    passphrase_env: str,
) -> None:
    try:
        signer = _store(store, passphrase_env).signer(region, at)
        lifetime = timedelta(minutes=lifetime_minutes) if lifetime_minutes else None
        payload = tokens.issue(credential, subject, signer, at, lifetime)
    except (keys.KeyStoreError, tokens.IssueError) as exc:
        raise _fail(str(exc)) from None
    info = qr.render(payload, qr_png)
    written = f", written to {qr_png}" if qr_png else ""
    typer.echo(f"{len(payload)} characters, {info.describe()}{written}", err=True)
    typer.echo(payload)


@issue_app.command("code")
def issue_code(
    region: RegionOption,
    store: StoreOption,
    subject: SubjectOption,
    colour: Annotated[str, typer.Option(help="green, yellow or red.")],
    policy_version: Annotated[
        str, typer.Option(help="The policy edition that set the colour, e.g. 2022-9th.")
    ],
    reason: Annotated[str, typer.Option(help="The rule or reason code that set the colour.")],
    lifetime_minutes: LifetimeOption = None,
    qr_png: QrOption = None,
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Issue a signed health code (valid a few minutes) and print its QR payload."""
    _build_and_issue(
        lambda: tokens.health_code(colour, policy_version, reason),
        tokens.ClaimError,
        region,
        store,
        subject,
        lifetime_minutes,
        qr_png,
        now,
        passphrase_env,
    )


@issue_app.command("test")
def issue_test(
    region: RegionOption,
    store: StoreOption,
    subject: SubjectOption,
    sampled: Annotated[str, typer.Option(help="ISO time the sample was taken.")],
    test_type: Annotated[str, typer.Option(help="pcr or rat.")] = "pcr",
    result: Annotated[str, typer.Option(help="negative or positive.")] = "negative",
    centre: Annotated[str, typer.Option(help="Testing centre.")] = "",
    lifetime_minutes: LifetimeOption = None,
    qr_png: QrOption = None,
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Issue a signed test certificate and print its QR payload."""
    _build_and_issue(
        lambda: tokens.covid_test(test_type, result, _now(sampled), centre, region),
        tokens.IssueError,
        region,
        store,
        subject,
        lifetime_minutes,
        qr_png,
        now,
        passphrase_env,
    )


@issue_app.command("vaccination")
def issue_vaccination(
    region: RegionOption,
    store: StoreOption,
    subject: SubjectOption,
    product: Annotated[
        str, typer.Option(help="Medicinal product (EU value set), e.g. BBIBP-CorV or CoronaVac.")
    ],
    given: Annotated[str, typer.Option(help="ISO date of the dose.")],
    dose: Annotated[int, typer.Option(min=1, help="Dose number.")] = 2,
    doses: Annotated[int, typer.Option(min=1, help="Doses in the course.")] = 2,
    lifetime_minutes: LifetimeOption = None,
    qr_png: QrOption = None,
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Issue a signed vaccination certificate and print its QR payload."""
    _build_and_issue(
        lambda: tokens.vaccination(product, dose, doses, date.fromisoformat(given), region),
        (tokens.ClaimError, ValueError),
        region,
        store,
        subject,
        lifetime_minutes,
        qr_png,
        now,
        passphrase_env,
    )


@issue_app.command("recovery")
def issue_recovery(
    region: RegionOption,
    store: StoreOption,
    subject: SubjectOption,
    first_positive: Annotated[str, typer.Option(help="ISO date of the first positive test.")],
    valid_from: Annotated[str, typer.Option(help="ISO date the certificate starts.")],
    valid_until: Annotated[str, typer.Option(help="ISO date the certificate ends.")],
    lifetime_minutes: LifetimeOption = None,
    qr_png: QrOption = None,
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Issue a signed recovery certificate and print its QR payload."""
    try:
        dates = [date.fromisoformat(d) for d in (first_positive, valid_from, valid_until)]
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _issue(
        tokens.recovery(*dates, region),
        region,
        store,
        subject,
        lifetime_minutes,
        qr_png,
        _now(now),
        passphrase_env,
    )


@app.command()
def revoke(
    region: RegionOption,
    store: StoreOption,
    key: Annotated[list[str] | None, typer.Option(help="Hex key id to revoke. Repeatable.")] = None,
    token: Annotated[
        list[str] | None, typer.Option(help="Hex token id (cti) or signature hash to revoke. Repeatable.")
    ] = None,
) -> None:
    """Revoke keys or tokens of a region; the revocations travel with its next exported trust list."""
    try:
        _store(store, PASSPHRASE_ENV).revoke(
            region,
            keys=tuple(bytes.fromhex(k) for k in key or ()),
            tokens=tuple(bytes.fromhex(t) for t in token or ()),
        )
    except (keys.KeyStoreError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"revoked {len(key or ())} key(s) and {len(token or ())} token(s) of {region}", err=True)


@trustlist_app.command("export")
def trustlist_export(
    region: RegionOption,
    store: StoreOption,
    out: Annotated[Path, typer.Option(help="File to write the signed list to.")],
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Sign and write a region's trust list: its keys still trusted and its revocations."""
    at = _now(now)
    key_store = _store(store, passphrase_env)
    try:
        data = trustlist.sign(trustlist.regional(key_store, region, at), key_store.publisher(region, at))
    except (keys.KeyStoreError, trustlist.TrustListError) as exc:
        raise _fail(str(exc)) from None
    out.write_bytes(data)
    typer.echo(f"wrote the trust list of {_region_name(region)} to {out} ({len(data)} bytes)", err=True)


@trustlist_app.command("merge")
def trustlist_merge(
    regional: Annotated[list[Path], typer.Argument(help="Signed regional trust lists.")],
    store: StoreOption,
    out: Annotated[Path, typer.Option(help="File to write the signed national list to.")],
    region: RegionOption = keys.NATIONAL,
    anchor: AnchorOption = None,
    previous: Annotated[
        Path | None, typer.Option(help="The previous national list: its keys vouch for the regions' lists.")
    ] = None,
    dsc_file: Annotated[
        list[Path] | None,
        typer.Option("--dsc", help="EU DCC Document Signer Certificate (PEM or DER). Repeatable."),
    ] = None,
    now: NowOption = None,
    passphrase_env: PassphraseEnvOption = PASSPHRASE_ENV,
) -> None:
    """Check regional trust lists, merge them with national keys and EU DSCs, and sign the national list.

    A regional list must be signed by a key pinned with --anchor (its PEM, checked out of band when a region
    joins) or by a key the --previous national list already trusts for that region."""
    at = _now(now)
    key_store = _store(store, passphrase_env)
    try:
        own = [key_info.public_key for key_info in key_store.keys(region)]
        known = list(trustlist.open_signed(previous.read_bytes(), own).keys) if previous else []
        anchors = [*known, *(keys.load_public_key(p.read_bytes()) for p in anchor or ())]
        lists = [trustlist.open_signed(path.read_bytes(), anchors) for path in regional]
        certificates = trustlist.from_certificates([_certificate(p) for p in dsc_file or ()], region, at)
        merged = trustlist.merge(
            [*lists, certificates, trustlist.regional(key_store, region, at)], region, at
        )
        data = trustlist.sign(merged, key_store.publisher(region, at))
    except (keys.KeyStoreError, trustlist.TrustListError, dsc.DscError, OSError) as exc:
        raise _fail(str(exc)) from None
    out.write_bytes(data)
    typer.echo(f"wrote {len(merged.keys)} keys from {len(lists)} regional lists to {out}", err=True)


@trustlist_app.command("show")
def trustlist_show(
    path: Annotated[Path, typer.Argument(help="Signed trust list file.")],
    anchor: AnchorOption = None,
) -> None:
    """Check a signed trust list against the anchor keys and print it as JSON."""
    try:
        trust = trustlist.open_signed(
            path.read_bytes(), [keys.load_public_key(p.read_bytes()) for p in anchor or ()]
        )
    except (trustlist.TrustListError, keys.KeyStoreError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(trust.to_json(), ensure_ascii=False, indent=2))


@trustlist_app.command("anchor")
def trustlist_anchor(
    store: StoreOption,
    out: Annotated[Path, typer.Option(help="File to write the PEM public key to.")],
    region: RegionOption = keys.NATIONAL,
    now: NowOption = None,
) -> None:
    """Write the public key that signs a region's trust lists (for the nation: the verifiers' anchor)."""
    at = _now(now)
    try:
        info = next(k for k in _store(store, PASSPHRASE_ENV).keys(region) if k.not_before <= at < k.not_after)
    except StopIteration:
        raise _fail(f"{region} has no key in trust; run keygen") from None
    out.write_bytes(keys.public_pem(info.public_key))
    typer.echo(f"wrote anchor {info.kid.hex()} of {_region_name(region)} to {out}", err=True)


@app.command("verify")
def verify_command(
    credential: Annotated[
        str,
        typer.Argument(
            help="The QR payload (SZ1:... or HC1:...), a PNG/JPEG photo of the QR code, or - for stdin."
        ),
    ],
    trust_list: Annotated[
        Path | None, typer.Option("--trust-list", "-t", help="Signed trust list (the national list).")
    ] = None,
    anchor: AnchorOption = None,
    dsc_file: Annotated[
        list[Path] | None,
        typer.Option("--dsc", help="Also trust this EU DCC signer certificate (PEM/DER). Repeatable."),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--acceptance", "-a", help="Acceptance policy: a region code (shipped rules) or a JSON file."
        ),
    ] = None,
    now: NowOption = None,
    skew_seconds: Annotated[
        int, typer.Option(min=0, help="Clock skew tolerated between issuer and verifier.")
    ] = int(DEFAULT_SKEW.total_seconds()),
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Verify a health code or certificate offline: exit code 0 if valid, 1 if invalid, 2 on usage errors.

    Checks the signature against the trust list, validity (with clock-skew tolerance), revocation and, with
    --acceptance, the verifier's acceptance policy. EU Digital COVID Certificates (HC1:) are checked against
    the DSCs in the trust list or given with --dsc."""
    try:
        trust = _verifier_trust(trust_list, anchor or [], dsc_file or [])
        rules = acceptance.load(policy) if policy else None
    except (
        trustlist.TrustListError,
        keys.KeyStoreError,
        dsc.DscError,
        acceptance.AcceptanceError,
        OSError,
    ) as exc:
        raise _fail(str(exc)) from None
    result = verify(_read_credential(credential), trust, _now(now), rules, timedelta(seconds=skew_seconds))
    typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if as_json else _describe(result))
    raise typer.Exit(0 if result.valid else 1)


def _verifier_trust(path: Path | None, anchors: list[Path], certificates: list[Path]) -> trustlist.TrustList:
    if path is None and not certificates:
        raise trustlist.TrustListError("give a --trust-list (with its --anchor) or at least one --dsc")
    lists = [trustlist.from_certificates([_certificate(p) for p in certificates])]
    if path is not None:
        if not anchors:
            raise trustlist.TrustListError("a signed trust list needs --anchor (the national public key PEM)")
        lists.append(
            trustlist.open_signed(path.read_bytes(), [keys.load_public_key(a.read_bytes()) for a in anchors])
        )
    return trustlist.merge(lists)


def _certificate(path: Path) -> bytes:
    return dsc.der_from_file_bytes(path.read_bytes())


def _read_credential(argument: str) -> str | Path:
    if argument == "-":
        return sys.stdin.read().strip()
    path = Path(argument)
    return path if not argument.startswith(("SZ1:", "HC1:")) and path.is_file() else argument


def _describe(result: Verification) -> str:
    kinds = {
        "hc": "health code",
        "t": "test certificate",
        "v": "vaccination certificate",
        "r": "recovery certificate",
    }
    what = kinds.get(result.kind or "", "credential")
    if result.scheme == "eu-dcc":
        what = f"EU DCC {what}"
    issued = (
        f"issued by {_region_name(result.issuer)}"
        if result.scheme == "shuzhi"
        else f"from {result.issuer or '?'}"
    )
    facts = f"{what} {issued}" if result.kind else what
    if result.valid:
        colour = f", counts as {result.counts_as}" if result.counts_as else ""
        return f"VALID {facts}{colour}; expires {result.expires_at.isoformat() if result.expires_at else '?'}"
    return f"INVALID ({result.reason.value if result.reason else '?'}) {facts}: {result.detail}"


if __name__ == "__main__":
    app()
